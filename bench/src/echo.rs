//! The TCP echo server every path talks to: its own thread and current-thread
//! runtime, so the echo side costs the same whichever path is measured.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;

/// A running echo server on 127.0.0.1; stops and joins its thread when dropped.
pub struct EchoServer {
    pub addr: SocketAddr,
    /// Dropped (or fired) to stop the server; its runtime then drops every connection.
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EchoServer {
    pub fn start() -> anyhow::Result<EchoServer> {
        let (stop, stopped) = oneshot::channel();
        let (bound, addr) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new().name("echo".into()).spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("echo runtime");
            runtime.block_on(async move {
                let listener = match listen() {
                    Ok(listener) => listener,
                    Err(e) => {
                        let _ = bound.send(Err(e));
                        return;
                    }
                };
                let _ = bound.send(listener.local_addr());
                tokio::select! {
                    () = accept_loop(listener) => {}
                    _ = stopped => {}
                }
            });
        })?;
        let addr = addr.recv()??;
        Ok(EchoServer { addr, stop: Some(stop), thread: Some(thread) })
    }
}

/// 127.0.0.1:0 with a deep accept queue: the scale test opens hundreds of
/// connections at once, and std's default backlog would drop SYNs (a 1 s retransmit).
fn listen() -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(([127, 0, 0, 1], 0).into())?;
    socket.listen(4096)
}

impl Drop for EchoServer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
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
