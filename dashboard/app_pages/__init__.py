"""Dashboard pages, each a script run by ``st.navigation`` in ``dashboard/app.py``."""
