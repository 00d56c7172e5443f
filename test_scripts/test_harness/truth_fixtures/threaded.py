"""A function that runs in a thread started after the recorder."""

import threading  # ran


def work(results):  # ran
    total = 0  # ran
    for value in range(3):  # ran
        total += value  # ran
    results.append(total)  # ran


def run():  # ran
    results = []  # ran
    thread = threading.Thread(target=work, args=(results,))  # ran
    thread.start()  # ran
    thread.join()  # ran
    return results  # ran
