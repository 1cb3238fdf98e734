"""Many orgs of one service app: the org registry operations, the concurrent runner with
its shared pacing, and bulk operations over data sources."""
