//! The playground page: its size as served (gzip, and brotli as Chromium gets it) and its time to first render
//! in headless Chromium, driven over the DevTools protocol (no extra driver).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use crate::process::find_program;

/// One file of the page as served.
#[derive(Debug, Clone)]
pub struct PageFile {
    pub path: String,
    /// Body bytes without compression.
    pub identity_bytes: usize,
    /// Body bytes on the wire when the client accepts gzip.
    pub gzip_bytes: usize,
    /// Body bytes on the wire when the client accepts brotli too, as browsers do.
    pub br_bytes: usize,
}

/// What the page measurement found.
#[derive(Debug, Clone)]
pub enum PageReport {
    /// The relay was built with SOCKLAB_SKIP_FRONTEND: there is no page to measure.
    Placeholder,
    Measured {
        files: Vec<PageFile>,
        /// Time to first render per load; `Err` says why it could not be measured.
        first_render: Result<Vec<Duration>, String>,
    },
}

/// Fetch the page and everything its index names, then load it in Chromium `loads` times.
pub async fn measure(port: u16, page_url: &str, loads: usize) -> anyhow::Result<PageReport> {
    let (index, _) = get(port, "/", None).await?;
    let index = String::from_utf8_lossy(&index).to_string();
    let names: Vec<String> = index
        .split(['"', '\''])
        .filter(|s| s.starts_with("./") && s.len() > 2)
        .map(|s| s[1..].to_string())
        .collect();
    if names.is_empty() {
        return Ok(PageReport::Placeholder);
    }
    let mut unique = vec!["/".to_string()];
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    let mut files = Vec::new();
    for path in unique {
        let (identity, _) = get(port, &path, None).await?;
        let (gzip, _) = get(port, &path, Some("gzip")).await?;
        // What Chromium asks for; the relay picks the smallest copy it accepts.
        let (br, _) = get(port, &path, Some("gzip, deflate, br, zstd")).await?;
        files.push(PageFile {
            path,
            identity_bytes: identity.len(),
            gzip_bytes: gzip.len(),
            br_bytes: br.len(),
        });
    }
    let first_render = first_render_times(page_url, loads)
        .await
        .map_err(|e| format!("{e:#}"));
    Ok(PageReport::Measured {
        files,
        first_render,
    })
}

/// GET `path` over HTTP/1.1 with `accept` as its Accept-Encoding; the body as
/// sent and its Content-Encoding.
async fn get(port: u16, path: &str, accept: Option<&str>) -> anyhow::Result<(Vec<u8>, Option<String>)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let encoding = accept.map(|a| format!("Accept-Encoding: {a}\r\n")).unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{encoding}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    if !head.starts_with("http/1.1 200") {
        bail!("GET {path}: {}", head.lines().next().unwrap_or_default());
    }
    let body = response[split + 4..].to_vec();
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(&body)?
    } else {
        body
    };
    let coding = head
        .lines()
        .find_map(|line| line.strip_prefix("content-encoding:"))
        .map(|c| c.trim().to_string());
    Ok((body, coding))
}

/// The payload of a chunked body (sizes counted as the payload, not the framing).
fn dechunk(mut body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("bad chunk")?;
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&body[..line_end])
                .split(';')
                .next()
                .unwrap_or("")
                .trim(),
            16,
        )?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(body.get(..size).context("short chunk")?);
        body = body.get(size + 2..).context("short chunk")?;
    }
}

/// Runs in every new document: records `performance.now()` (ms since navigation
/// start) at the first animation frame after the body holds something besides
/// scripts, i.e. when the app's first render is about to be painted.
const FIRST_RENDER_PROBE: &str = r#"(() => {
  const rendered = () => document.body && [...document.body.children].some(e => e.tagName !== 'SCRIPT' && e.tagName !== 'NOSCRIPT');
  const observer = new MutationObserver(() => {
    if (rendered()) {
      observer.disconnect();
      requestAnimationFrame(() => { window.__socklabFirstRender = performance.now(); });
    }
  });
  observer.observe(document, { childList: true, subtree: true });
})();"#;

/// Load the page `loads` times with the HTTP cache off; time to first render of each.
async fn first_render_times(page_url: &str, loads: usize) -> anyhow::Result<Vec<Duration>> {
    let mut browser = Chromium::launch()?;
    let mut cdp = Cdp::connect(&browser.ws_url).await?;
    let session = new_tab(&mut cdp).await?;
    let s = Some(session.as_str());
    cdp.call(s, "Network.enable", json!({})).await?;
    cdp.call(
        s,
        "Network.setCacheDisabled",
        json!({"cacheDisabled": true}),
    )
    .await?;
    cdp.call(s, "Page.enable", json!({})).await?;
    cdp.call(
        s,
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": FIRST_RENDER_PROBE}),
    )
    .await?;
    let mut times = Vec::with_capacity(loads);
    for _ in 0..loads {
        // Through about:blank, so every load is a new document (the same URL again would
        // only be a fragment navigation) and no answer can come from the previous one.
        cdp.call(s, "Page.navigate", json!({"url": "about:blank"}))
            .await?;
        poll(&mut cdp, s, "location.href === 'about:blank' ? 0 : null").await?;
        cdp.call(s, "Page.navigate", json!({"url": page_url}))
            .await?;
        let ms = poll(
            &mut cdp,
            s,
            "location.href === 'about:blank' ? null : (window.__socklabFirstRender ?? null)",
        )
        .await?;
        times.push(Duration::from_secs_f64(ms / 1000.0));
    }
    browser.stop();
    Ok(times)
}

/// A new blank tab, attached: its DevTools session id.
async fn new_tab(cdp: &mut Cdp) -> anyhow::Result<String> {
    let target = cdp
        .call(None, "Target.createTarget", json!({"url": "about:blank"}))
        .await?;
    let target_id = target["targetId"]
        .as_str()
        .context("no targetId")?
        .to_string();
    let attached = cdp
        .call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        )
        .await?;
    Ok(attached["sessionId"]
        .as_str()
        .context("no sessionId")?
        .to_string())
}

/// The value of `expression` in the page.
async fn evaluate(cdp: &mut Cdp, session: Option<&str>, expression: &str) -> anyhow::Result<Value> {
    let got = cdp
        .call(
            session,
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        )
        .await?;
    Ok(got["result"]["value"].clone())
}

/// Evaluate `expression` in the page until it gives a number (30 s at most).
async fn poll(cdp: &mut Cdp, session: Option<&str>, expression: &str) -> anyhow::Result<f64> {
    let start = Instant::now();
    loop {
        let got = evaluate(cdp, session, expression).await?;
        if let Some(value) = got.as_f64() {
            return Ok(value);
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("the page did not render within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Headless Chromium with a throwaway profile and a DevTools port, killed when dropped.
struct Chromium {
    child: Child,
    ws_url: String,
    profile: PathBuf,
}

impl Chromium {
    fn launch() -> anyhow::Result<Chromium> {
        let program = ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .find_map(|name| find_program(name, &[]))
            .context("no chromium on PATH (apt-get install -y chromium)")?;
        let profile =
            std::env::temp_dir().join(format!("socklab-bench-chromium-{}", std::process::id()));
        let mut child = Command::new(program)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting chromium")?;
        let stderr = child.stderr.take().context("chromium stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let ws_url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix("DevTools listening on ") {
                        break url.trim().to_string();
                    }
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    bail!("chromium exited before printing its DevTools address");
                }
            }
        };
        // Keep draining stderr so chromium never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Chromium {
            child,
            ws_url,
            profile,
        })
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A DevTools protocol connection (flat sessions).
struct Cdp {
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl Cdp {
    async fn connect(url: &str) -> anyhow::Result<Cdp> {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .context("connecting to chromium's DevTools")?;
        Ok(Cdp { ws, next_id: 1 })
    }

    /// Send a command and wait for its result, skipping events.
    async fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> anyhow::Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let mut command = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.ws
            .send(Message::Text(command.to_string().into()))
            .await?;
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(30), self.ws.next())
                .await
                .with_context(|| format!("{method}: no answer from chromium"))?
                .context("chromium closed DevTools")??;
            let Message::Text(text) = frame else { continue };
            let msg: Value = serde_json::from_str(&text)?;
            if msg["id"].as_u64() == Some(id) {
                if let Some(error) = msg.get("error") {
                    bail!("{method}: {error}");
                }
                return Ok(msg["result"].clone());
            }
        }
    }
}
