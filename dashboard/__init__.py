"""The Streamlit workbench: ``streamlit run dashboard/app.py``.

Pages read widgets, call :mod:`core` and render; every number they show is
computed by a ``core`` function a test can call.
"""
