"""SparseLens core library: data, models, penalties, solvers, explainers, metrics.

Never imports Streamlit; the dashboard in ``dashboard/`` renders what this computes.
"""

__version__ = "0.1.0"
