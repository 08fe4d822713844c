"""HTTP routes: they translate between HTTP and the store, and do nothing else."""
