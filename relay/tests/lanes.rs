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
