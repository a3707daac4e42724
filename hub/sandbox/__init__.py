"""Local stand-ins for the outside world: simulator plumbing, the sandbox connector and gateway."""
