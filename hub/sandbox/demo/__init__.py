"""The demo: the starter configuration's stores, driven through a running hub, each outcome checked."""
