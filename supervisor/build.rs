//! Builds `park/main.rs`, the tiny static program an idle supervisor execs into (see there),
//! into `$OUT_DIR/park`, which `src/park.rs` embeds (an empty file where it cannot be built:
//! the supervisor then skips parking and simply waits itself), and links
//! `mesos-containerizer` statically: no dynamic loader, no shared libraries to map and
//! relocate on each of the agent's launches. Both through `meseta-build`.

fn main() {
    meseta_build::build_park("park/main.rs", "park");
    meseta_build::link_statically(&["mesos-containerizer"]);
}
