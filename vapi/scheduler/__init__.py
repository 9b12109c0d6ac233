"""kube-scheduler's default profile over the in-process API: a scheduling queue, filter and score
plugins, preemption, and binding through pods/binding."""
from .scheduler import NAME, USER, Scheduler

__all__ = ["NAME", "USER", "Scheduler"]
