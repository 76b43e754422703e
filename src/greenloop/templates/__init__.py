"""HTML page templates (package data), rendered by report.py with Jinja's autoescape and StrictUndefined."""
