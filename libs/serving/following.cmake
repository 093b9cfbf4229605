# (filled in with its target)
