//! The TCP echo server every path talks to. It runs as a child process (this
//! program again, with `--echo-server`) so its sockets count against its own
//! open-files limit, not the bench client's: at 10,000 sessions each side needs
//! 10,000 descriptors, and the limit here may not be raisable.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// A running echo server process on 127.0.0.1, killed when dropped.
pub struct EchoServer {
    pub addr: SocketAddr,
    child: Child,
}

impl EchoServer {
    /// Start `this-program --echo-server` and read the address it prints.
    pub fn start() -> anyhow::Result<EchoServer> {
        let exe = std::env::current_exe().context("where is this program")?;
        let mut child = Command::new(exe)
            .arg("--echo-server")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the echo server")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("echo stdout")?).read_line(&mut line)?;
        match line.trim().parse() {
            Ok(addr) => Ok(EchoServer { addr, child }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the echo server printed {line:?} instead of its address")
            }
        }
    }
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The echo server process itself: print the address, echo until stdin closes
/// (the bench has gone), on one thread.
pub fn serve() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = listen()?;
        println!("{}", listener.local_addr()?);
        // Stdin is read on a thread of its own: end-of-file means the parent is gone.
        let (gone, parent_gone) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            let _ = gone.send(());
        });
        tokio::select! {
            () = accept_loop(listener) => {}
            _ = parent_gone => {}
        }
        anyhow::Ok(())
    })
}

/// 127.0.0.1:0 with a deep accept queue: the scale test opens hundreds of
/// connections at once, and the usual backlog of 128 would drop SYNs (a 1 s retransmit).
fn listen() -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(([127, 0, 0, 1], 0).into())?;
    socket.listen(4096)
}

async fn accept_loop(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(echo(stream));
            }
            // EMFILE and friends: back off instead of spinning; the client will see the failure.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

async fn echo(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}
