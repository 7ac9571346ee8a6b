//! std::fs from several threads in a preopened directory (weft-run --dir
//! HOST::/data): create, write, append, read, seek, metadata, read_dir,
//! rename, remove. The guest cleans up after itself.
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::thread;

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "/data".into()));
    let dir = root.join("rust_fs");
    if dir.exists() {
        fs::remove_dir_all(&dir).unwrap();
    }
    fs::create_dir_all(dir.join("nested/deeper")).unwrap();
    println!("created {}", dir.display());

    // 8 threads write their own files and append to one shared log.
    let log = dir.join("shared.log");
    thread::scope(|s| {
        for t in 0..8 {
            let (dir, log) = (&dir, &log);
            s.spawn(move || {
                let mut f = File::create(dir.join(format!("t{t}.txt"))).unwrap();
                for line in 0..100 {
                    writeln!(f, "thread {t} line {line}").unwrap();
                }
                f.sync_all().unwrap();
                let mut shared = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .unwrap();
                for line in 0..50 {
                    // One write per line: appends never interleave inside a line.
                    shared
                        .write_all(format!("t{t} {line}\n").as_bytes())
                        .unwrap();
                }
            });
        }
    });

    // Every thread reads every other thread's file.
    let ok = thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|t| {
                let dir = &dir;
                s.spawn(move || {
                    (0..8).filter(|&o| o != t).all(|o| {
                        let f = File::open(dir.join(format!("t{o}.txt"))).unwrap();
                        let lines: Vec<String> =
                            BufReader::new(f).lines().map(Result::unwrap).collect();
                        lines.len() == 100 && lines[42] == format!("thread {o} line 42")
                    })
                })
            })
            .collect();
        hs.into_iter().all(|h| h.join().unwrap())
    });
    println!("cross reads ok: {ok}");

    let mut lines: Vec<String> = fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let n = lines.len();
    lines.sort();
    lines.dedup();
    println!("shared log: {n} lines, {} distinct", lines.len());

    // Metadata, seek and a positioned read.
    let p = dir.join("t3.txt");
    let meta = fs::metadata(&p).unwrap();
    println!("t3.txt: file {}, {} bytes", meta.is_file(), meta.len());
    let mut f = File::open(&p).unwrap();
    f.seek(SeekFrom::Start(meta.len() - 17)).unwrap();
    let mut tail = String::new();
    f.read_to_string(&mut tail).unwrap();
    println!("t3.txt tail: {:?}", tail);

    // Rename and remove from threads, then list what is left.
    thread::scope(|s| {
        for t in 0..8 {
            let dir = &dir;
            s.spawn(move || {
                let from = dir.join(format!("t{t}.txt"));
                if t % 2 == 0 {
                    fs::rename(&from, dir.join("nested").join(format!("moved{t}.txt"))).unwrap();
                } else {
                    fs::remove_file(&from).unwrap();
                }
            });
        }
    });
    fs::write(dir.join("nested/deeper/leaf"), b"leaf").unwrap();
    println!("listing:");
    list(&dir, &dir);
    println!(
        "missing file: {:?}",
        File::open(dir.join("t1.txt")).map_err(|e| e.kind()).err()
    );

    fs::remove_dir_all(&dir).unwrap();
    println!("removed: {}", !dir.exists());
}

fn list(base: &Path, dir: &Path) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let rel = p.strip_prefix(base).unwrap();
        if p.is_dir() {
            println!("  {}/", rel.display());
            list(base, &p);
        } else {
            println!(
                "  {} ({} bytes)",
                rel.display(),
                fs::metadata(&p).unwrap().len()
            );
        }
    }
}
