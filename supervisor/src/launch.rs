//! Creating the container: cgroups prepared, the first process cloned into its namespaces
//! (and, on v2, into its cgroup), limits written while it sets up its mounts, then "go" and
//! the wait until it has exec'd or said why it could not. `plan` prepares, in the supervisor,
//! everything the child needs (`child.rs`).

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use isolators::cgroups::{OomWatch, SelfJoin};
use isolators::{Cgroups, ContainerCgroup};
use meseta_containerizer_api::launch_info::LaunchInfo;
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{pipe2, write, Pid, User};

use crate::child::{self, ChildPlan};
use crate::oci;

/// Stack for the cloned child until it execs.
const CHILD_STACK: usize = 256 * 1024;

/// Clones the container's first process, puts it in its cgroups, lets it run and waits until
/// it has exec'd (or reported why it could not).
///
/// The child prepares its namespaces and mounts while we set up its cgroups (the two overlap
/// on a multi-core host); it waits for our "go" only right before `execve`, so no user code
/// ever runs outside the cgroups.
pub(crate) fn launch(
    info: &LaunchInfo,
) -> Result<(Pid, Option<ContainerCgroup>, Option<OomWatch>), String> {
    let (go_r, go_w) = pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let (err_r, err_w) = pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    // The cgroups exist before the child does, and it gets into them without the kernel's
    // global migration lock: on v1 it moves itself in (`SelfJoin`), on v2 it is created inside
    // (`CloneInto`). Only where clone3 cannot do that (kernels before 5.7) do we move it.
    let (cgroups, join, clone_into) = match &info.cgroups {
        None => (None, None, None),
        Some(spec) => {
            let cgroups = Cgroups::with_version(spec.version, &spec.hierarchy, &spec.root);
            let id = &info.container_id;
            let prepared = cgroups
                .prepare_self_join(id, spec.controllers)
                .and_then(|join| Ok((join, cgroups.prepare_clone_into(id)?)));
            let (join, into) = prepared.map_err(|e| format!("setting up cgroups: {e}"))?;
            (Some((cgroups, spec.controllers)), join, into)
        }
    };
    let plan = plan(info, go_r, err_w, join.as_ref())?;
    let flags: CloneFlags = info.namespaces.clone_flags();
    // v2: created inside its cgroup, unless clone3 cannot do that.
    let created_inside = match &clone_into {
        None => None,
        // SAFETY: the supervisor is single-threaded, so the child is a consistent copy of it.
        Some(into) => match unsafe { into.fork(flags) } {
            Ok(None) => {
                let code = child::run(&plan);
                // SAFETY: the child ends here without unwinding into the supervisor's code.
                unsafe { libc::_exit(i32::try_from(code).unwrap_or(127)) }
            }
            Ok(Some(pid)) => Some(pid),
            Err(e) => {
                eprintln!(
                    "mesos-containerizer: clone3(CLONE_INTO_CGROUP) failed ({e}); moving the \
                     container's first process into its cgroup instead"
                );
                None
            }
        },
    };
    // The child is in its cgroups already (v2) or moves itself in (v1): nothing to attach.
    let in_place = join.is_some() || created_inside.is_some();
    let child = match created_inside {
        Some(pid) => pid,
        None => {
            let mut stack = vec![0u8; CHILD_STACK];
            // SAFETY: the supervisor is single-threaded, so the child is a consistent copy of
            // it; the callback only touches `plan`, which lives until after the child has
            // exec'd or exited.
            unsafe {
                nix::sched::clone(
                    Box::new(|| child::run(&plan)),
                    &mut stack,
                    flags,
                    Some(libc::SIGCHLD),
                )
            }
            .map_err(|e| format!("clone({flags:?}): {e}"))?
        }
    };
    drop(plan);
    drop(join);
    drop(clone_into);

    // While the child sets up its namespaces.
    let cgroup = match cgroups {
        None => None,
        Some((cgroups, controllers)) => {
            let placed = cgroups.open(&info.container_id).and_then(|cg| {
                if in_place {
                    cg.limit(&info.limits, controllers)?;
                } else {
                    cg.attach(child, &info.limits, controllers)?;
                }
                Ok(cg)
            });
            match placed {
                Ok(cg) => Some(cg),
                Err(e) => {
                    let _ = kill(child, Signal::SIGKILL);
                    let _ = waitpid(child, None);
                    return Err(format!("setting up cgroups: {e}"));
                }
            }
        }
    };
    // Registered before the task runs, so even an immediate OOM kill is seen.
    let oom = cgroup
        .as_ref()
        .filter(|_| info.cgroups.as_ref().is_some_and(|c| c.controllers.memory))
        .and_then(|cg| match cg.watch_oom() {
            Ok(w) => Some(w),
            Err(e) => {
                eprintln!("mesos-containerizer: cannot watch for OOM kills: {e}");
                None
            }
        });
    // The child may already have failed (and closed its end): its own message says why.
    let started = write(&go_w, b"g");
    drop(go_w);
    let mut msg = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match nix::unistd::read(err_r.as_raw_fd(), &mut buf) {
            Ok(0) => break,
            Ok(n) => msg.extend_from_slice(&buf[..n]),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(format!("reading launch result: {e}")),
        }
    }
    if msg.is_empty() {
        if let Err(e) = started {
            return Err(format!("starting the container: {e}"));
        }
        return Ok((child, cgroup, oom));
    }
    let _ = waitpid(child, None);
    Err(String::from_utf8_lossy(&msg).into_owned())
}

fn plan<'a>(
    info: &'a LaunchInfo,
    go: OwnedFd,
    errors: OwnedFd,
    join: Option<&'a SelfJoin>,
) -> Result<ChildPlan<'a>, String> {
    let cstr = |s: &str| CString::new(s).map_err(|_| format!("NUL byte in {s:?}"));
    let argv = info
        .command
        .argv
        .iter()
        .map(|a| cstr(a))
        .collect::<Result<Vec<_>, _>>()?;
    let envp = info
        .command
        .env
        .iter()
        .map(|(k, v)| cstr(&format!("{k}={v}")))
        .collect::<Result<Vec<_>, _>>()?;
    let arg0 = &info.command.argv[0];
    let candidates = if arg0.contains('/') {
        vec![cstr(arg0)?]
    } else {
        info.command
            .path_var()
            .split(':')
            .filter(|d| !d.is_empty())
            .map(|d| cstr(&format!("{}/{arg0}", d.trim_end_matches('/'))))
            .collect::<Result<Vec<_>, _>>()?
    };
    let user = match &info.command.user {
        None => None,
        Some(name) => {
            let u = User::from_name(name)
                .map_err(|e| format!("looking up user '{name}': {e}"))?
                .ok_or_else(|| format!("user '{name}' does not exist"))?;
            let cname = cstr(name)?;
            let groups = nix::unistd::getgrouplist(&cname, u.gid).unwrap_or_else(|_| vec![u.gid]);
            Some((u.uid, u.gid, groups))
        }
    };
    let open_log = |name: &str| -> Result<OwnedFd, String> {
        let path = info.sandbox.join(name);
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map(OwnedFd::from)
            .map_err(|e| format!("opening {}: {e}", path.display()))
    };
    let stdin = std::fs::File::open("/dev/null")
        .map(OwnedFd::from)
        .map_err(|e| format!("/dev/null: {e}"))?;
    let stdout = open_log("stdout")?;
    let stderr = open_log("stderr")?;
    if let Some((uid, gid, _)) = &user {
        for fd in [&stdout, &stderr] {
            let _ = nix::unistd::fchown(fd.as_fd().as_raw_fd(), Some(*uid), Some(*gid));
        }
    }
    let hostname = info
        .hostname
        .clone()
        .unwrap_or_else(|| info.container_id.chars().take(64).collect());
    let working_dir = info.effective_working_dir();
    Ok(ChildPlan {
        info,
        argv,
        envp,
        candidates,
        working_dir,
        hostname,
        user,
        stdin,
        stdout,
        stderr,
        go,
        errors,
        caps: info.rootfs.as_ref().map(|_| oci::docker_default_caps()),
        join,
    })
}
