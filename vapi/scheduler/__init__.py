"""kube-scheduler's default profile over the in-process API: a scheduling queue (`queue.py`),
filter and score plugins, preemption, and binding through pods/binding (`scheduler.py`)."""
