/*
 * replay.h - the replay record: how the C front end (bin/tsrun,
 * native-shim/front/replay.c) repeats a `create` or `run` that TypeScript
 * made before, without starting Node (issue 6).
 *
 * A `create`/`run` is a function of its inputs: the id, --root, the bundle
 * and its config.json bytes, the flags, the tsrun build, and the cgroups of
 * the caller.  When TypeScript creates a container it can record what that
 * create did, as data: the state files (templates), the cgroup operations,
 * the plan for the shim.  When the same inputs come again, byte for byte,
 * the front replays the record: same files, same cgroups, same plan to the
 * same shim.  Anything unusual on the way (a cgroup dir that exists, a
 * failed write, a shim error) undoes what the replay made and runs Node,
 * which then does the create itself and reports any error: no message for
 * the user is ever made by the replay.
 *
 * src/runtime/replay.ts writes records and mirrors every constant below;
 * test/unit/protocol.test.ts checks that the two agree, so change both.
 *
 * Where: <root>/.replay/<key> (dir 0700, files 0600; both root's and not
 * group/other-writable, checked on the fds the record is read through), key = 16 lower-case
 * hex digits of the 64-bit FNV-1a of (G(inputs) || G(config.json)), G below.
 * TypeScript keeps at most REPLAY_MAX_RECORDS, dropping the oldest.
 *
 * Other ids.  containerd (and CRI) write a new bundle for each container,
 * and its config.json differs from the last one of the same image by the
 * id only (cgroupsPath; the bundle path holds it too).  So when the id looks
 * generated (at least REPLAY_ID_MIN characters, all of [0-9a-f]: nothing
 * else a record holds can contain it by chance) and neither the inputs nor
 * config.json hold a 0x01 byte, G(bytes) is the bytes with each occurrence
 * of the id, found left to right without overlap, replaced by 0x01 'I';
 * otherwise G(bytes) = bytes.  TypeScript then also stores RP_ID, unless a
 * layer's path or digest contains the id, or config.json names it other
 * than as text in its bytes (replay.ts idOnlyAsText: the bytes with a marker
 * id in its place must parse to the parse with the marker in its place; an
 * escape, a number, an object key or a duplicate key that involves the id
 * fails that).  A record with RP_ID serves
 * another id of the same length when G(record inputs, record id) and
 * G(record config, record id) equal G(inputs, id) and G(config, id), the
 * record holds no occurrence of the new id, and no two occurrences of its
 * own overlap: then every occurrence of the record's id in the record is
 * replaced by the new id (same length, so every TLV length holds; a TLV
 * header always has a 0 byte, so no occurrence crosses one), and the
 * replay goes on as for an exact match.  This holds because create.ts
 * uses the id only as text: in paths (<root>/<id>, the write layer, the
 * default cgroup /tsrun/<id>) and in state.json.
 *
 * The file is a TLV list (protocol.h's encoding, tlv.h), tags RP_* below.
 *
 * Inputs (RP_INPUTS): text the front builds (front/replay.c, replay_inputs)
 * from its command line and the host, one "name value" line each.  On a miss
 * (and after a replay undone) the front runs Node with TSRUN_REPLAY=<inputs
 * as hex>; TypeScript stores them verbatim when the container it made can be
 * replayed (replay.ts notReplayable) and they are the inputs of its own call
 * (replay.ts inputsMismatch rebuilds each line).  The front replays only when both the inputs
 * and the config.json bytes equal the record's.  They name, among others,
 * the --root and the --data-dir (default /var/lib/tsrun), each resolved as
 * Node's path.resolve does; the cgroup layout (and on v1 the entries of
 * /sys/fs/cgroup: which hierarchies setupCgroup finds), the kernel (uname),
 * the caller's RLIMIT_NOFILE.
 *
 * Templates: bytes with markers, a 0x01 byte followed by one letter, that
 * the front replaces (JSON never holds a raw 0x01: JSON.stringify escapes it,
 * and TypeScript records nothing whose JSON holds an escaped one):
 *   0x01 'P'  the container pid (decimal)
 *   0x01 'S'  its start time, /proc/PID/stat field 22 (decimal)
 *   0x01 'C'  created: RFC 3339 UTC with nanoseconds, 2026-11-23T10:05:02.538123456Z
 *   0x01 'p'  the creator's pid (the front's own)
 *   0x01 's'  the creator's start time
 * A template needing a value not known yet (P or S before the shim sent
 * MSG_PID) is a broken record: no replay.
 *
 * The replay, in the order create.ts makes things (so that `delete --force`
 * after a crash at any point finds everything in state.json):
 *   1. mkdir <root> (0711, may exist), mkdir <root>/<id> (0711; EEXIST: Node
 *      says "already exists"), flock it (store.ts lockDir)
 *   2. state.json = RP_STATE_CLAIMED (no cgroup yet), config.json = RP_CONFIG_COPY (each via
 *      a temp file + rename, mode 0644)
 *   2b. with RP_DATA_LOCK held shared, RP_DATA_OP in order (image layers):
 *      open(2) it O_RDONLY (it must exist: making it is Node's), flock
 *      LOCK_SH, the ops, close.  An undo removes each DOPK_ABSENT path found
 *      absent (rm -r, on its own file system, nothing followed), unless
 *      /proc/self/mountinfo shows a mount at or under it.  The DOPK_SAME
 *      and DOPK_DIR checks are also made once before step 1: failing there
 *      (a layer tar changed, a layer pruned) is a miss, and Node records anew
 *   3. every RP_LEAF must not exist (else Node: it checks whether another
 *      container uses it); state.json = RP_STATE_CGROUP; then RP_CGROUP_OP
 *      in order (the guards among them checked where they stand)
 *   4. mkfifo <root>/<id>/exec.fifo, chmod 0622
 *   5. the shim (protocol.h): socketpair; the shim gets fds 0-2 of the front,
 *      the control socket as fd 3, argv "<shim> create 3", an empty
 *      environment, RLIMIT_NOFILE = RP_NOFILE_CUR/MAX; MSG_PLAN with RP_PLAN; MSG_PID: state.json = RP_STATE_PID;
 *      MSG_READY: state.json = RP_STATE_READY, then <root>/<id>/front =
 *        RP_FRONT_HEAD
 *        "state-live <len LIVE_HEAD> <len LIVE_TAIL>\n" LIVE_HEAD LIVE_TAIL
 *        "\nstate-stopped <len STOPPED>\n" STOPPED "\nend\n"
 *      (lengths after replacing the markers; front-record.ts has the format)
 *   6. --pid-file (temp file + rename); release the lock.
 */
#ifndef TSRUN_REPLAY_H
#define TSRUN_REPLAY_H

#define REPLAY_VERSION 3
#define REPLAY_ID_MIN 32 /* the shortest id a record serves other ids for (RP_ID) */
#define REPLAY_DIR ".replay"
#define REPLAY_MAX_RECORDS 256
#define REPLAY_ENV "TSRUN_REPLAY"

/* ---- top-level tags ---- */
#define RP_VERSION 1            /* u64 REPLAY_VERSION */
#define RP_INPUTS 2             /* bytes: the inputs, as the front gave them */
#define RP_CONFIG 3             /* bytes: <bundle>/config.json as read */
#define RP_STATE_CLAIMED 4      /* template: state.json before anything is made (pid 0; C p s) */
#define RP_STATE_PID 5          /* template: state.json once the pid is known (P S C p s) */
#define RP_STATE_READY 6        /* template: state.json of the created container (P S C) */
#define RP_CONFIG_COPY 7        /* bytes: <root>/<id>/config.json */
#define RP_LEAF 8               /* string (repeat): the container's own cgroup dirs */
#define RP_CGROUP_OP 9          /* group CGO_* (repeat, in order) */
#define RP_PLAN 10              /* bytes: the MSG_PLAN payload, verbatim */
#define RP_FRONT_HEAD 11        /* template: the front record up to its state-live line (P S) */
#define RP_FRONT_LIVE_HEAD 12   /* template (P C) */
#define RP_FRONT_LIVE_TAIL 13   /* template (P C) */
#define RP_FRONT_STOPPED 14     /* template (C) */
/* image layers (tsrun.layers of tar files and directories; see DOPK_*) */
#define RP_DATA_LOCK 15         /* string: <data dir>/store.lock, held with flock(LOCK_SH) while the RP_DATA_OPs run (prune takes it exclusively) */
#define RP_DATA_OP 16           /* group DOP_* (repeat, in order) */
#define RP_ID 17                /* string (optional): the id the record was made for; it serves other ids too (see "Other ids") */
#define RP_STATE_CGROUP 18      /* template: state.json once the cgroup is known to be free (pid 0; C p s) */
#define RP_NOFILE_CUR 19        /* u64: RLIMIT_NOFILE soft limit Node's shim had (RLIM_INFINITY as 2^64-1) */
#define RP_NOFILE_MAX 20        /* u64: its hard limit */
#define RP_LAST 20              /* the highest tag */

/* ---- CGO_* (RP_CGROUP_OP) ---- */
#define CGO_OP 1                /* u64 CGOP_* */
#define CGO_PATH 2              /* string */
#define CGO_PARENT 3            /* string: CGOP_INHERIT */
#define CGO_VALUE 4             /* bytes: CGOP_WRITE, CGOP_WRITE_FAILS, CGOP_READ */
#define CGO_ERRNO 5             /* u64: CGOP_WRITE_FAILS */

#define CGOP_MKDIR 1    /* mkdir PATH 0777 (umask applies); EEXIST is fine.  What the replay made it removes again (deepest first) when it fails */
#define CGOP_INHERIT 2  /* v1 cpuset: for cpuset.cpus and cpuset.mems of PATH, when empty, write PARENT's value (when not empty) */
#define CGOP_WRITE 3    /* open PATH O_WRONLY|O_TRUNC (never O_CREAT), write VALUE in one write(2) */
#define CGOP_ENABLE 4   /* cgroup v2, enableControllers(PATH) of cgroups/index.ts: unless PATH is a root cgroup (no cgroup.events), write "+c" for each controller of PATH/cgroup.controllers missing from PATH/cgroup.subtree_control, in one write, else one by one; errors ignored */
#define CGOP_DEVICE_FILTER 5 /* cgroup v2: VALUE (struct bpf_insn[]) loaded as a BPF_PROG_TYPE_CGROUP_DEVICE program and attached to the cgroup dir PATH (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI), as src/sys/bpf.ts setDeviceFilter does for a new cgroup */
/* Guards: what setupCgroup read, at the point it read it (cgroups/fs.ts exists, readFile); a
 * different answer is a surprise (the replay is undone, Node creates and records anew) */
#define CGOP_EXISTS 6   /* stat(2) of PATH succeeds */
#define CGOP_ABSENT 7   /* stat(2) of PATH fails */
#define CGOP_READ 8     /* PATH reads VALUE, blanks around it trimmed (a missing file is CGOP_ABSENT) */
#define CGOP_WRITE_FAILS 9 /* as CGOP_WRITE, but open or write fails with errno ERRNO: a failure create.ts tolerates (ENOENT of memory.swap.max, the EINVAL before a retry); success or another errno is a surprise */

/* ---- DOP_* (RP_DATA_OP): the write layer, in the order rootfs.ts makes it ---- */
#define DOP_OP 1                /* u64 DOPK_* */
#define DOP_PATH 2              /* string */
#define DOP_VALUE 3             /* bytes: DOPK_SAME "<st_dev>:<st_ino>:<st_size>:<mtime ns>"; DOPK_WRITE the contents */
#define DOP_MODE 4              /* u64: DOPK_MKDIR */

#define DOPK_SAME 1     /* stat(2) of PATH gives VALUE: a layer tar unchanged since the record (the layer index keys on the same facts) */
#define DOPK_DIR 2      /* PATH is a directory: an unpacked layer, or a layer used in place */
#define DOPK_ABSENT 3   /* PATH does not exist (else Node: a stale write layer, or another --root's); if the replay fails, PATH is removed with everything in it */
#define DOPK_MKDIR 4    /* mkdir PATH MODE (umask applies); EEXIST is fine */
#define DOPK_WRITE 5    /* PATH := VALUE (O_WRONLY|O_CREAT|O_TRUNC, 0666 & ~umask) */

/* ---- markers in templates ---- */
#define REPLAY_MARK 0x01
#define MARK_PID 'P'
#define MARK_START_TIME 'S'
#define MARK_CREATED 'C'
#define MARK_CREATOR_PID 'p'
#define MARK_CREATOR_START_TIME 's'
#define MARK_ID 'I' /* only in G (the key), never in a record */

#endif /* TSRUN_REPLAY_H */
