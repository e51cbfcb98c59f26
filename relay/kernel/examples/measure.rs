use std::time::Instant;
use socklab_kernel::netns::Netns;
fn pct(v: &mut Vec<f64>, p: f64) -> f64 { v.sort_by(f64::total_cmp); v[((v.len() - 1) as f64 * p) as usize] }
fn main() {
    let mut create = Vec::new();
    let mut sock = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        let ns = Netns::create().unwrap();
        create.push(t.elapsed().as_secs_f64() * 1e6);
        let t = Instant::now();
        let _s = ns.socket(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap();
        sock.push(t.elapsed().as_secs_f64() * 1e6);
    }
    println!("create median {:.0} us p99 {:.0} us", pct(&mut create, 0.5), pct(&mut create, 0.99));
    println!("socket median {:.1} us p99 {:.1} us", pct(&mut sock, 0.5), pct(&mut sock, 0.99));
}
