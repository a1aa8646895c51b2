//! Builds `park/main.rs`, the tiny static program an idle command executor execs into (see
//! there and `src/park.rs`), into `$OUT_DIR/park` (empty where it cannot be built: the
//! executor then never parks), and links `mesos-executor` and `mesos-docker-executor`
//! statically (glibc static-pie): one executor runs per task, and a static binary maps no
//! dynamic loader and no shared libraries. Both through `meseta-build`.

fn main() {
    meseta_build::build_park("park/main.rs", "park");
    meseta_build::link_statically(&["mesos-executor", "mesos-docker-executor"]);
}
