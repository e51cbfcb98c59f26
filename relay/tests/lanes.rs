//! Threads and forked processes as lanes, on real sockets through `socklab run`.

mod common;

use common::run_script;

#[test]
fn a_thread_is_a_lane_that_shares_globals_and_sockets() {
    let run = run_script(
        r#"# lane: server
import socket, threading

seen = []
srv = socket.create_server(("127.0.0.1", 7101))

def handle(conn):
    data = conn.recv(100)
    seen.append(data)
    conn.sendall(data.upper())
    conn.close()

conn, _ = srv.accept()
t = threading.Thread(target=handle, args=(conn,))
t.start()
t.join()
print(seen, t.is_alive(), threading.current_thread().name)

# lane: client
import socket
c = socket.create_connection(("127.0.0.1", 7101))
c.sendall(b"hi")
print(c.recv(100))
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.prints("server"), ["[b'hi'] False MainThread"]);
    assert_eq!(run.prints("client"), ["b'HI'"]);
    let recv = run.step("data = conn.recv(100)");
    assert_eq!(recv["lane"], "server/thread-1");
    assert_eq!(recv["function"], "handle");
}

#[test]
fn a_forked_child_has_its_own_copy_of_state_and_descriptors() {
    let run = run_script(
        r#"# lane: server
import os, socket

srv = socket.create_server(("127.0.0.1", 7102))
conn, _ = srv.accept()
count = [0]
pid = os.fork()
if pid == 0:
    srv.close()
    count[0] += 1
    conn.sendall(b"from child %d" % count[0])
    conn.close()
    os._exit(3)
conn.close()
got, status = os.waitpid(pid, 0)
print(got == pid, os.WIFEXITED(status), os.WEXITSTATUS(status), count[0])
# The child closed its copy of the listening socket; the parent's still accepts.
srv.settimeout(0)
try:
    srv.accept()
except BlockingIOError:
    print("still listening")

# lane: client
import socket
c = socket.create_connection(("127.0.0.1", 7102))
print(c.recv(100))
print(c.recv(100))
"#,
        &[],
    );
    assert_eq!(run.prints("server"), ["True True 3 0", "still listening"], "{}", run.stdout);
    assert_eq!(run.prints("client"), ["b'from child 1'", "b''"]);
    let fork = run.step("pid = os.fork()");
    assert_eq!(fork["lane"], "server");
    let child_end = run.lane_end("server/fork-1");
    assert_eq!(child_end["status"], "error", "{child_end}");
    assert_eq!(run.lane_end("server")["status"], "finished");
}

#[test]
fn daemon_threads_stop_with_their_program_and_locks_hand_over() {
    let run = run_script(
        r#"import threading, time
lock = threading.Lock()
order = []

def worker(name):
    with lock:
        order.append(name)

def forever():
    while True:
        time.sleep(0.01)

lock.acquire()
threads = [threading.Thread(target=worker, args=(n,)) for n in "ab"]
for t in threads:
    t.start()
threading.Thread(target=forever, daemon=True).start()
time.sleep(0.05)
order.append("main")
lock.release()
for t in threads:
    t.join()
print(order, lock.locked())
"#,
        &[],
    );
    assert_eq!(run.prints("main"), ["['main', 'a', 'b'] False"], "{}", run.stdout);
    assert_eq!(run.lane_end("main")["status"], "finished");
    let daemon = run.lane_end("main/thread-3");
    assert!(daemon["message"].as_str().unwrap_or("").contains("exited"), "{daemon}");
}

#[test]
fn events_conditions_and_queues_between_threads() {
    let run = run_script(
        r#"import threading, queue
q = queue.Queue()
ready = threading.Event()
results = []

def consumer():
    ready.set()
    while True:
        item = q.get()
        if item is None:
            break
        results.append(item * 2)
        q.task_done()

t = threading.Thread(target=consumer)
t.start()
print(ready.wait(), ready.is_set())
for i in range(3):
    q.put(i)
q.put(None)
t.join()
print(results)
try:
    q.get(timeout=0.05)
except queue.Empty:
    print("empty")
"#,
        &[],
    );
    run.assert_all_finished();
    assert_eq!(run.prints("main"), ["True True", "[0, 2, 4]", "empty"], "{}", run.stdout);
}

#[test]
fn a_lane_waiting_for_a_thread_that_never_ends_is_reported_blocked() {
    let run = run_script(
        r#"import threading
lock = threading.Lock()
lock.acquire()
t = threading.Thread(target=lock.acquire)
t.start()
t.join()
"#,
        &[],
    );
    let end = run.lane_end("main");
    assert_eq!(end["status"], "blocked", "{}", run.stdout);
    assert!(end["message"].as_str().unwrap_or("").contains("join: waiting for main/thread-1 to end"), "{end}");
    assert_eq!(run.lane_end("main/thread-1")["status"], "blocked");
}

#[test]
fn an_uncaught_exception_ends_its_lane_with_cpythons_traceback() {
    let run = run_script(
        r#"# lane: server
import socket, threading

def serve(srv):
    conn, _ = srv.accept()
    data = conn.recv(100)
    raise ValueError("bad request: %r" % data)

srv = socket.create_server(("127.0.0.1", 7110))
t = threading.Thread(target=serve, args=(srv,))
t.start()
t.join()
print("joined")

# lane: client
import socket
c = socket.create_connection(("127.0.0.1", 7110))
c.sendall(b"hi")
c.close()
c.recv(10)
"#,
        &[],
    );
    let client = run.lane_end("client");
    assert_eq!(client["message"], "line 20: OSError: [Errno 9] Bad file descriptor");
    assert_eq!(
        client["traceback"],
        "Traceback (most recent call last):\n  File \"client.py\", line 20, in <module>\n    c.recv(10)\n\
         OSError: [Errno 9] Bad file descriptor\n"
    );
    let thread = run.lane_end("server/thread-1");
    assert_eq!(
        thread["traceback"],
        "Exception in thread Thread-1 (serve):\nTraceback (most recent call last):\n  File \"server.py\", line 7, in serve\n    \
         raise ValueError(\"bad request: %r\" % data)\nValueError: bad request: b'hi'\n"
    );
    let server = run.lane_end("server");
    assert_eq!(server["status"], "finished");
    assert!(server.get("traceback").is_none(), "{server}");
    assert_eq!(run.prints("server"), ["joined"]);
}

#[test]
fn a_forked_child_has_its_own_generators_and_memoryview_bytes() {
    let run = run_script(
        r#"# lane: server
import os, socket

def counter():
    n = 0
    while True:
        n += 1
        yield n

def lines(conn):
    # A suspended generator holding a socket: the child's copy holds the child's socket.
    while True:
        data = conn.recv(100)
        if not data:
            return
        yield data

srv = socket.create_server(("127.0.0.1", 7111))
conn, _ = srv.accept()
g = counter()
next(g)
pairs = enumerate(counter())
buf = bytearray(b"abcd")
view = memoryview(buf)
reader = lines(conn)
print(next(reader))
pid = os.fork()
if pid == 0:
    print("child", next(g), next(g))
    view[0:1] = b"X"
    print("child", buf, bytes(view))
    for i, n in pairs:
        if i == 2:
            break
    print("child", i, n)
    conn.close()
    os._exit(0)
os.waitpid(pid, 0)
print("parent", next(g), buf, bytes(view))
for i, n in pairs:
    print("parent", i, n)
    break
conn.sendall(b"!")
print("parent", next(reader))

# lane: client
import socket
c = socket.create_connection(("127.0.0.1", 7111))
c.sendall(b"one")
c.recv(1)
c.sendall(b"two")
c.close()
"#,
        &[],
    );
    assert_eq!(
        run.prints("server/fork-1"),
        ["child 2 3", "child bytearray(b'Xbcd') b'Xbcd'", "child 2 3"],
        "{}",
        run.stdout
    );
    // The parent's generators and bytes are where it left them, whatever the child did.
    assert_eq!(run.prints("server")[1..3], ["parent 2 bytearray(b'abcd') b'abcd'", "parent 0 1"], "{}", run.stdout);
    assert_eq!(run.prints("server")[0], "b'one'");
    assert_eq!(run.prints("server")[3], "parent b'two'");
    assert_eq!(run.lane_end("server")["status"], "finished");
    assert_eq!(run.lane_end("server/fork-1")["status"], "finished");
}

#[test]
fn input_reads_standard_input_and_waits_for_it() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut file = tempfile::Builder::new().suffix(".sock.py").tempfile().unwrap();
    file.write_all(
        br#"# lane: server
import socket, threading
srv = socket.create_server(("127.0.0.1", 7103))
conn, _ = srv.accept()
print(conn.recv(100))

# lane: client
import socket, sys
c = socket.create_connection(("127.0.0.1", 7103))
line = input("say: ")
c.sendall(line.encode())
print(repr(sys.stdin.readline()))
try:
    input()
except EOFError as e:
    print("EOFError:", e)
"#,
    )
    .unwrap();
    let mut child = Command::new(common::BIN)
        .args(["run", "--json"])
        .arg(file.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // Later than the client's input(): it waits, and nothing counts as a deadlock.
        std::thread::sleep(std::time::Duration::from_millis(300));
        stdin.write_all(b"hello\nsecond line\n").unwrap();
    });
    let run = common::to_run(child.wait_with_output().unwrap());
    writer.join().unwrap();
    run.assert_all_finished();
    assert_eq!(run.prints("client"), ["say: 'second line\\n'", "EOFError: EOF when reading a line"]);
    assert_eq!(run.prints("server"), ["b'hello'"]);
}
