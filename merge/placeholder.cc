// The merge module; see merge/README in the merger issue.
