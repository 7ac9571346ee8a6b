//! crossbeam-channel: unbounded, bounded and zero-capacity channels with many
//! senders and receivers, select! over receives, sends, timeouts and
//! defaults, after/tick timers, dynamic Select; crossbeam-utils scope and
//! WaitGroup.
use crossbeam_channel::{after, bounded, never, select, tick, unbounded, Select};
use crossbeam_utils::sync::WaitGroup;
use std::time::{Duration, Instant};

fn main() {
    // Many producers and consumers on one unbounded channel.
    let (tx, rx) = unbounded::<u64>();
    let total = crossbeam_utils::thread::scope(|s| {
        for p in 0..4u64 {
            let tx = tx.clone();
            s.spawn(move |_| {
                for i in 0..1000 {
                    tx.send(p * 100_000 + i).unwrap();
                }
            });
        }
        drop(tx);
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let rx = rx.clone();
                s.spawn(move |_| rx.iter().fold((0u64, 0u64), |a, v| (a.0 + 1, a.1 + v)))
            })
            .collect();
        consumers
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    })
    .unwrap();
    println!("unbounded mpmc: {} messages, sum {}", total.0, total.1);

    // select! over two channels until both are disconnected.
    let (tx_a, rx_a) = bounded::<u32>(1);
    let (tx_b, rx_b) = bounded::<u32>(0);
    let ha = std::thread::spawn(move || (0..300).for_each(|i| tx_a.send(i).unwrap()));
    let hb = std::thread::spawn(move || (0..200).for_each(|i| tx_b.send(i * 2).unwrap()));
    let (mut from_a, mut from_b, mut sum) = (0, 0, 0u64);
    let (mut a_open, mut b_open) = (true, true);
    while a_open || b_open {
        let ra = if a_open { rx_a.clone() } else { never() };
        let rb = if b_open { rx_b.clone() } else { never() };
        select! {
            recv(ra) -> m => match m {
                Ok(v) => { from_a += 1; sum += v as u64; }
                Err(_) => a_open = false,
            },
            recv(rb) -> m => match m {
                Ok(v) => { from_b += 1; sum += v as u64; }
                Err(_) => b_open = false,
            },
        }
    }
    ha.join().unwrap();
    hb.join().unwrap();
    println!("select! recv: {from_a} from a, {from_b} from b, sum {sum}");

    // select! with send arms: whichever side has room.
    let (tx1, rx1) = bounded::<u32>(5);
    let (tx2, rx2) = bounded::<u32>(5);
    let mut sent = 0;
    for i in 0..10 {
        select! {
            send(tx1, i) -> r => { r.unwrap(); sent += 1; }
            send(tx2, i) -> r => { r.unwrap(); sent += 1; }
        }
    }
    println!(
        "select! send: {sent} sent, {} queued",
        rx1.len() + rx2.len()
    );

    // default and timeout arms.
    let (_keep, empty) = unbounded::<u8>();
    let r = select! {
        recv(empty) -> _ => "message",
        default => "default",
    };
    println!("select! on empty with default: {r}");
    let t = Instant::now();
    let r = select! {
        recv(empty) -> _ => "message",
        default(Duration::from_millis(30)) => "timeout",
    };
    println!(
        "select! timeout: {r}, waited >= 30ms: {}",
        t.elapsed() >= Duration::from_millis(30)
    );
    println!(
        "recv_timeout: {:?}",
        empty.recv_timeout(Duration::from_millis(10))
    );

    // tick and after: three ticks 5 ms apart, and a tick wins over a timer
    // one minute away.
    let start = Instant::now();
    let ticker = tick(Duration::from_millis(5));
    let ticks: Vec<Instant> = (0..3).map(|_| ticker.recv().unwrap()).collect();
    let spaced =
        ticks.windows(2).all(|w| w[1] >= w[0]) && ticks[2] - start >= Duration::from_millis(15);
    let far = after(Duration::from_secs(60));
    let first = select! {
        recv(ticker) -> _ => "tick",
        recv(far) -> _ => "after",
    };
    let fired = after(Duration::from_millis(10)).recv().unwrap();
    println!(
        "tick: 3 ticks >= 15ms: {spaced}, first of tick and after(60s): {first}, after(10ms) fired late enough: {}",
        fired - start >= Duration::from_millis(25)
    );

    // Dynamic Select over 4 receivers, fed by 4 threads.
    let chans: Vec<_> = (0..4).map(|_| bounded::<usize>(0)).collect();
    let senders: Vec<_> = chans
        .iter()
        .enumerate()
        .map(|(i, (tx, _))| {
            let tx = tx.clone();
            std::thread::spawn(move || tx.send(i * 10).unwrap())
        })
        .collect();
    let mut got = Vec::new();
    while got.len() < 4 {
        let mut sel = Select::new();
        for (_, rx) in &chans {
            sel.recv(rx);
        }
        let op = sel.select();
        let i = op.index();
        got.push(op.recv(&chans[i].1).unwrap());
    }
    senders.into_iter().for_each(|h| h.join().unwrap());
    got.sort();
    println!("Select: {got:?}");

    // WaitGroup: the main thread waits for 5 workers.
    let wg = WaitGroup::new();
    let (tx, rx) = unbounded();
    for i in 0..5 {
        let wg = wg.clone();
        let tx = tx.clone();
        std::thread::spawn(move || {
            tx.send(i).unwrap();
            drop(wg);
        });
    }
    wg.wait();
    drop(tx);
    let mut ids: Vec<i32> = rx.iter().collect();
    ids.sort();
    println!("WaitGroup: {ids:?}");
    println!("done");
}
