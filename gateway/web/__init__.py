"""The offices' web page: static assets served by gateway/web_routes.py (package data)."""
