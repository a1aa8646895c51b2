//! mesos-executor: the command executor (filled in by the vertical-slice issue).
