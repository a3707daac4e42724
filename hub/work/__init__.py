"""Background work: the job outbox, the Huey queue that wakes workers, the janitor."""
