"""Training, prediction and embedding on a Ray cluster (an optional extra:
``pip install -e ".[cluster]"``). Ray is imported only when a cluster is used, never at
start-up; ``connect.ray_installed`` says whether it can be, without importing it."""
