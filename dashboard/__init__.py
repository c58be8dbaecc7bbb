"""gridcc: the command center of grid-based urban governance (网格化管理)."""
