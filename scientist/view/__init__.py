"""`scientist view`: a local, read-only web view of a campaign, live or as a static site."""
