"""The async pattern catalog: one small module per async pattern, written the way app code is.

Each module is measured on its own (`./test_runner.py compare patterns`) and driven by its test in
`test_scripts/test_patterns/`. Every module has lines after its interesting await or switch, so a
tracer that loses its place shows it there. The modules stand alone: each has its own models and,
where a route is involved, its own `create_app`.
"""
