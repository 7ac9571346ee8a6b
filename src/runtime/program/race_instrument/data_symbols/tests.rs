//! The data symbol table on DWARF written by hand (DWARF 4 and 5, as clang
//! emits them for wasm32), and on garbage.

use super::DataSymbols;

const DW_TAG_ARRAY_TYPE: u8 = 0x01;
const DW_TAG_LEXICAL_BLOCK: u8 = 0x0b;
const DW_TAG_MEMBER: u8 = 0x0d;
const DW_TAG_STRUCTURE_TYPE: u8 = 0x13;
const DW_TAG_COMPILE_UNIT: u8 = 0x11;
const DW_TAG_TYPEDEF: u8 = 0x16;
const DW_TAG_SUBRANGE_TYPE: u8 = 0x21;
const DW_TAG_BASE_TYPE: u8 = 0x24;
const DW_TAG_SUBPROGRAM: u8 = 0x2e;
const DW_TAG_VARIABLE: u8 = 0x34;
const DW_TAG_NAMESPACE: u8 = 0x39;
const DW_AT_LOCATION: u8 = 0x02;
const DW_AT_NAME: u8 = 0x03;
const DW_AT_BYTE_SIZE: u8 = 0x0b;
const DW_AT_COUNT: u8 = 0x37;
const DW_AT_DECLARATION: u8 = 0x3c;
const DW_AT_SPECIFICATION: u8 = 0x47;
const DW_AT_TYPE: u8 = 0x49;
const DW_AT_ADDR_BASE: u8 = 0x73;
const DW_FORM_DATA1: u8 = 0x0b;
const DW_FORM_STRING: u8 = 0x08;
const DW_FORM_REF4: u8 = 0x13;
const DW_FORM_SEC_OFFSET: u8 = 0x17;
const DW_FORM_EXPRLOC: u8 = 0x18;
const DW_FORM_FLAG_PRESENT: u8 = 0x19;
const DW_OP_ADDR: u8 = 0x03;
const DW_OP_MUL: u8 = 0x1e;
const DW_OP_PLUS_UCONST: u8 = 0x23;
const DW_OP_LIT1: u8 = 0x31;
const DW_OP_PIECE: u8 = 0x93;
const DW_OP_DEREF_SIZE: u8 = 0x94;
const DW_OP_STACK_VALUE: u8 = 0x9f;
const DW_OP_ADDRX: u8 = 0xa1;

/// Abbreviation codes of [`module`]'s entries.
const CU: u8 = 1;
const BASE: u8 = 2;
const VAR: u8 = 3;
const ARRAY: u8 = 4;
const SUBRANGE: u8 = 5;
const SCOPE: u8 = 6;
const TYPEDEF: u8 = 7;
const DECL: u8 = 8;
const UNNAMED: u8 = 9;
const BLOCK: u8 = 10;
const NAMESPACE: u8 = 11;
const STRUCT: u8 = 12;
const MEMBER: u8 = 13;
const DEFINITION: u8 = 14;

fn abbrevs(version: u16) -> Vec<u8> {
    const NAME: (u8, u8) = (DW_AT_NAME, DW_FORM_STRING);
    const TYPE: (u8, u8) = (DW_AT_TYPE, DW_FORM_REF4);
    const LOCATION: (u8, u8) = (DW_AT_LOCATION, DW_FORM_EXPRLOC);
    const DECLARATION: (u8, u8) = (DW_AT_DECLARATION, DW_FORM_FLAG_PRESENT);
    let cu: &[(u8, u8)] = match version {
        5 => &[NAME, (DW_AT_ADDR_BASE, DW_FORM_SEC_OFFSET)],
        _ => &[NAME],
    };
    // (code, tag, has children, attributes)
    type Abbrev<'a> = (u8, u8, bool, &'a [(u8, u8)]);
    let table: [Abbrev<'_>; 14] = [
        (CU, DW_TAG_COMPILE_UNIT, true, cu),
        (
            BASE,
            DW_TAG_BASE_TYPE,
            false,
            &[NAME, (DW_AT_BYTE_SIZE, DW_FORM_DATA1)],
        ),
        (VAR, DW_TAG_VARIABLE, false, &[NAME, TYPE, LOCATION]),
        (ARRAY, DW_TAG_ARRAY_TYPE, true, &[TYPE]),
        (
            SUBRANGE,
            DW_TAG_SUBRANGE_TYPE,
            false,
            &[(DW_AT_COUNT, DW_FORM_DATA1)],
        ),
        (SCOPE, DW_TAG_SUBPROGRAM, true, &[NAME]),
        (TYPEDEF, DW_TAG_TYPEDEF, false, &[NAME, TYPE]),
        (DECL, DW_TAG_VARIABLE, false, &[NAME, TYPE, DECLARATION]),
        (UNNAMED, DW_TAG_VARIABLE, false, &[TYPE, LOCATION]),
        (BLOCK, DW_TAG_LEXICAL_BLOCK, true, &[]),
        (NAMESPACE, DW_TAG_NAMESPACE, true, &[NAME]),
        (STRUCT, DW_TAG_STRUCTURE_TYPE, true, &[NAME]),
        (MEMBER, DW_TAG_MEMBER, false, &[NAME, TYPE, DECLARATION]),
        (
            DEFINITION,
            DW_TAG_VARIABLE,
            false,
            &[(DW_AT_SPECIFICATION, DW_FORM_REF4), LOCATION],
        ),
    ];
    let mut a = Vec::new();
    for (code, tag, children, attrs) in table {
        a.extend([code, tag, children as u8]);
        for &(at, form) in attrs {
            a.extend([at, form]);
        }
        a.extend([0, 0]);
    }
    a.push(0);
    a
}

/// A `.debug_info` unit under construction.
struct Info {
    header: usize,
    dies: Vec<u8>,
}

impl Info {
    /// The unit offset of the next entry.
    fn here(&self) -> u32 {
        (self.header + self.dies.len()) as u32
    }
    fn entry(&mut self, code: u8) -> &mut Self {
        self.dies.push(code);
        self
    }
    fn name(&mut self, s: &str) -> &mut Self {
        self.dies.extend(s.as_bytes());
        self.dies.push(0);
        self
    }
    fn byte(&mut self, b: u8) -> &mut Self {
        self.dies.push(b);
        self
    }
    fn reference(&mut self, offset: u32) -> &mut Self {
        self.dies.extend(offset.to_le_bytes());
        self
    }
    fn expr(&mut self, ops: &[u8]) -> &mut Self {
        self.dies.push(ops.len() as u8);
        self.dies.extend(ops);
        self
    }
    fn end_children(&mut self) {
        self.dies.push(0);
    }
}

/// `DW_OP_addr` (DWARF 4) or `DW_OP_addrx` of the next `.debug_addr` slot
/// (DWARF 5) for `addr`.
fn at(version: u16, addrs: &mut Vec<u32>, addr: u32) -> Vec<u8> {
    match version {
        5 => {
            addrs.push(addr);
            vec![DW_OP_ADDRX, (addrs.len() - 1) as u8]
        }
        _ => [&[DW_OP_ADDR][..], &addr.to_le_bytes()].concat(),
    }
}

/// A C-like unit in DWARF `version`:
///
/// ```c
/// typedef int myint;
/// myint counter;            // 0x400
/// int table[3][2];          // 0x410
/// "literal";                // 0x500, unnamed
/// extern int elsewhere;     // a declaration
/// int discarded;            // at 0: dropped by the linker
/// int tombstone;            // at 0xffffffff
/// int in_struct;            // 0x440 + 8 (DW_OP_plus_uconst)
/// int constant;             // a value (DW_OP_stack_value), not a place
/// int data[4];              // optimised into pieces: data[0] a byte at
///                           // 0x600, data[1] gone, data[2..4] at 0x608
/// int flag;                 // shrunk to a byte at 0x620
/// namespace ns { int x; }   // 0x450
/// void work(void) { { static int calls; } }   // 0x430
/// struct S { static int count; };             // C++: defined at 0x470
/// int S::count;
/// ```
fn module(version: u16) -> DataSymbols {
    let header = if version == 5 { 12 } else { 11 };
    let mut addrs = Vec::new();
    let mut i = Info {
        header,
        dies: Vec::new(),
    };
    i.entry(CU).name("t.c");
    if version == 5 {
        // DW_AT_addr_base: after the `.debug_addr` header.
        i.reference(8);
    }
    let int = i.here();
    i.entry(BASE).name("int").byte(4);
    let myint = i.here();
    i.entry(TYPEDEF).name("myint").reference(int);
    let char_ = i.here();
    i.entry(BASE).name("char").byte(1);
    let table = i.here();
    i.entry(ARRAY).reference(int);
    i.entry(SUBRANGE).byte(3);
    i.entry(SUBRANGE).byte(2);
    i.end_children();
    let literal = i.here();
    i.entry(ARRAY).reference(char_);
    i.entry(SUBRANGE).byte(8);
    i.end_children();
    let var = |i: &mut Info, name: &str, ty: u32, ops: Vec<u8>| {
        i.entry(VAR).name(name).reference(ty).expr(&ops);
    };
    var(&mut i, "counter", myint, at(version, &mut addrs, 0x400));
    var(&mut i, "table", table, at(version, &mut addrs, 0x410));
    let ops = at(version, &mut addrs, 0x500);
    i.entry(UNNAMED).reference(literal).expr(&ops);
    i.entry(DECL).name("elsewhere").reference(int);
    var(&mut i, "discarded", int, at(version, &mut addrs, 0));
    var(
        &mut i,
        "tombstone",
        int,
        at(version, &mut addrs, 0xffff_ffff),
    );
    let plus = [at(version, &mut addrs, 0x440), vec![DW_OP_PLUS_UCONST, 8]].concat();
    var(&mut i, "in_struct", int, plus);
    let value = [at(version, &mut addrs, 0x460), vec![DW_OP_STACK_VALUE]].concat();
    var(&mut i, "constant", int, value);
    let data = i.here();
    i.entry(ARRAY).reference(int);
    i.entry(SUBRANGE).byte(4);
    i.end_children();
    let byte_value = |addr: Vec<u8>| {
        [
            addr,
            vec![
                DW_OP_DEREF_SIZE,
                1,
                DW_OP_LIT1,
                DW_OP_MUL,
                DW_OP_STACK_VALUE,
            ],
        ]
        .concat()
    };
    let pieces = [
        byte_value(at(version, &mut addrs, 0x600)),
        vec![DW_OP_PIECE, 4, DW_OP_PIECE, 4],
        at(version, &mut addrs, 0x608),
        vec![DW_OP_PIECE, 8],
    ]
    .concat();
    var(&mut i, "data", data, pieces);
    let flag = byte_value(at(version, &mut addrs, 0x620));
    var(&mut i, "flag", int, flag);
    i.entry(NAMESPACE).name("ns");
    var(&mut i, "x", int, at(version, &mut addrs, 0x450));
    i.end_children();
    i.entry(STRUCT).name("S");
    let count = i.here();
    i.entry(MEMBER).name("count").reference(int);
    i.end_children();
    let ops = at(version, &mut addrs, 0x470);
    i.entry(DEFINITION).reference(count).expr(&ops);
    i.entry(SCOPE).name("work");
    i.entry(BLOCK);
    var(&mut i, "calls", int, at(version, &mut addrs, 0x430));
    i.end_children();
    i.end_children();
    i.end_children();

    let mut info = Vec::new();
    let length = (header - 4 + i.dies.len()) as u32;
    info.extend(length.to_le_bytes());
    info.extend(version.to_le_bytes());
    if version == 5 {
        info.extend([0x01, 4]); // DW_UT_compile, address size
        info.extend(0u32.to_le_bytes()); // abbreviations at 0
    } else {
        info.extend(0u32.to_le_bytes());
        info.push(4);
    }
    info.extend(&i.dies);

    let mut symbols = DataSymbols::default();
    symbols.add_section(".debug_info", &info);
    symbols.add_section(".debug_abbrev", &abbrevs(version));
    if version == 5 {
        let mut addr = Vec::new();
        addr.extend((4 + 4 * addrs.len() as u32).to_le_bytes());
        addr.extend(5u16.to_le_bytes());
        addr.extend([4, 0]);
        for a in &addrs {
            addr.extend(a.to_le_bytes());
        }
        symbols.add_section(".debug_addr", &addr);
    }
    symbols
}

#[test]
fn variables_are_named_with_their_offsets_and_sizes() {
    for version in [4, 5] {
        let s = module(version);
        assert!(s.has_dwarf());
        let found = |addr| s.lookup(addr);
        assert_eq!(found(0x400), Some(("counter", 0, 4)), "DWARF {version}");
        assert_eq!(found(0x403), Some(("counter", 3, 4)));
        assert_eq!(found(0x404), None);
        // int[3][2] through its two subranges.
        assert_eq!(found(0x410), Some(("table", 0, 24)));
        assert_eq!(found(0x427), Some(("table", 23, 24)));
        assert_eq!(found(0x428), None);
        // A function-static, inside a block, named after its function.
        assert_eq!(found(0x432), Some(("work::calls", 2, 4)));
        assert_eq!(found(0x448), Some(("in_struct", 0, 4)));
        assert_eq!(found(0x450), Some(("ns::x", 0, 4)));
        // Named and typed by its declaration in the class.
        assert_eq!(found(0x471), Some(("S::count", 1, 4)));
        // Pieces: the memory each is at or read from.
        assert_eq!(found(0x600), Some(("data", 0, 16)));
        assert_eq!(found(0x601), None);
        assert_eq!(found(0x608), Some(("data", 8, 16)));
        assert_eq!(found(0x60f), Some(("data", 15, 16)));
        assert_eq!(found(0x610), None);
        assert_eq!(found(0x620), Some(("flag", 0, 4)));
        assert_eq!(found(0x621), None);
        // Unnamed, discarded, a tombstone, a value: no symbol.
        assert_eq!(found(0x500), None);
        assert_eq!(found(0), None);
        assert_eq!(found(0xffff_ffff), None);
        assert_eq!(found(0x460), None);
        // Heap and stack addresses have none either.
        assert_eq!(found(0x10_0000), None);
    }
}

#[test]
fn other_custom_sections_are_not_kept() {
    let mut s = DataSymbols::default();
    s.add_section("name", b"\x01\x02");
    s.add_section(".debug_line", b"\x01\x02");
    s.add_section("producers", b"\x01\x02");
    assert!(!s.has_dwarf());
    assert_eq!(s.lookup(0x400), None);
}

/// Garbage and every one-byte change or truncation of valid DWARF: no
/// panic (the parser itself, not only behind `lookup`'s `catch_unwind`),
/// and whatever is found is a symbol of a known size.
#[test]
fn malformed_dwarf_gives_no_symbols_and_no_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for len in [0, 1, 4, 11, 64, 4096] {
        let info: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let abbrev: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let mut s = DataSymbols::default();
        s.add_section(".debug_info", &info);
        s.add_section(".debug_abbrev", &abbrev);
        s.add_section(".debug_addr", &info);
        s.add_section(".debug_str", &abbrev);
        let _ = s.parse();
        for addr in [0, 0x400, u64::from(u32::MAX), u64::MAX] {
            let _ = s.lookup(addr);
        }
    }
    for version in [4, 5] {
        let good = module(version);
        let sections = good.sections.clone();
        for (section, data) in sections.iter().enumerate().filter(|(_, d)| !d.is_empty()) {
            for (at, &byte) in data.iter().enumerate() {
                for change in [0x00, 0xff, 0x80, byte ^ 0x01] {
                    let mut bad = DataSymbols {
                        sections: sections.clone(),
                        ..DataSymbols::default()
                    };
                    bad.sections[section][at] = change;
                    // Not through `lookup`, which would catch a panic.
                    for symbol in bad.parse() {
                        assert!(symbol.size > 0, "{symbol:?}");
                    }
                    if let Some((_, offset, size)) = bad.lookup(0x410) {
                        assert!(offset < size);
                    }
                }
                let mut cut = DataSymbols {
                    sections: sections.clone(),
                    ..DataSymbols::default()
                };
                cut.sections[section].truncate(at);
                let _ = cut.parse();
            }
        }
    }
}
