//! Open Graph images: a 1200×630 PNG per post — a background colour derived from the slug, a
//! darker band, and the title in a 5×7 bitmap font — encoded here in a few hundred lines
//! (indexed colour; zlib stream with fixed-Huffman deflate blocks whose matches copy the pixel
//! to the left or the row above; CRC-32 per chunk, Adler-32 over the image data).

/// Image width, the size Open Graph consumers expect.
pub const WIDTH: usize = 1200;
/// Image height.
pub const HEIGHT: usize = 630;

/// Palette indices.
const BG: u8 = 0;
const BAND: u8 = 1;
const INK: u8 = 2;
const ACCENT: u8 = 3;

/// Glyph size (the 5×7 font) and scales.
const GLYPH_W: usize = 5;
const GLYPH_H: usize = 7;
const TITLE_SCALE: usize = 8;
const SITE_SCALE: usize = 4;
const MARGIN: usize = 72;

/// The palette for `slug`: a background hue from an FNV-1a hash of the slug, a darker band,
/// near-white ink and a light accent.
#[must_use]
pub fn palette(slug: &str) -> [[u8; 3]; 4] {
    let mut h: u32 = 0x811c_9dc5;
    for b in slug.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let hue = (h % 360) as f32;
    let bg = hsl(hue, 0.55, 0.38);
    let band = hsl(hue, 0.60, 0.24);
    let accent = hsl((hue + 40.0) % 360.0, 0.80, 0.72);
    [bg, band, [0xf8, 0xf8, 0xf4], accent]
}

fn hsl(h: f32, s: f32, l: f32) -> [u8; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // clamped to 0..=255
    let to = |v: f32| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [to(r), to(g), to(b)]
}

/// Rows of a 5×7 glyph (bit 4 = leftmost column); `None` for characters the font lacks.
fn glyph(c: char) -> Option<[u8; GLYPH_H]> {
    Some(match c.to_ascii_uppercase() {
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        ' ' => [0; GLYPH_H],
        '.' => [0, 0, 0, 0, 0, 0x0C, 0x0C],
        ',' => [0, 0, 0, 0, 0x0C, 0x04, 0x08],
        ':' => [0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0],
        '!' => [0x04, 0x04, 0x04, 0x04, 0x04, 0, 0x04],
        '?' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0, 0x04],
        '-' => [0, 0, 0, 0x1F, 0, 0, 0],
        '\'' => [0x04, 0x04, 0x08, 0, 0, 0, 0],
        '&' => [0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D],
        '/' => [0x01, 0x01, 0x02, 0x04, 0x08, 0x10, 0x10],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '<' => [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02],
        '>' => [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08],
        _ => return None,
    })
}

/// Splits `text` into at most `max_lines` lines of at most `cols` characters (word wrap; a
/// longer word is cut; characters outside the font become `?`; an overflow ends in `...`).
fn wrap(text: &str, cols: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut truncated = false;
    for word in text.split_whitespace() {
        let word: String = word.chars().map(|c| if glyph(c).is_some() { c } else { '?' }).take(cols).collect();
        let need = if cur.is_empty() { word.chars().count() } else { cur.chars().count() + 1 + word.chars().count() };
        if need <= cols {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(&word);
        } else {
            lines.push(std::mem::take(&mut cur));
            cur = word;
        }
        if lines.len() == max_lines {
            truncated = true;
            break;
        }
    }
    if !truncated && !cur.is_empty() {
        lines.push(cur);
    }
    if truncated {
        if let Some(last) = lines.last_mut() {
            while last.chars().count() + 3 > cols {
                last.pop();
            }
            last.push_str("...");
        }
    }
    lines
}

/// The indexed raster: one palette index per pixel, row-major.
#[must_use]
pub fn render(title: &str, site: &str) -> Vec<u8> {
    let mut px = vec![BG; WIDTH * HEIGHT];
    // A darker band at the bottom with a thin accent line above it.
    let band_top = HEIGHT - 120;
    for y in band_top..HEIGHT {
        px[y * WIDTH..(y + 1) * WIDTH].fill(BAND);
    }
    for y in band_top - 8..band_top {
        px[y * WIDTH + MARGIN..y * WIDTH + MARGIN + 160].fill(ACCENT);
    }
    let advance = (GLYPH_W + 1) * TITLE_SCALE;
    let cols = (WIDTH - 2 * MARGIN) / advance;
    let lines = wrap(title, cols, 4);
    let line_h = (GLYPH_H + 3) * TITLE_SCALE;
    for (i, line) in lines.iter().enumerate() {
        draw_text(&mut px, line, MARGIN, MARGIN + i * line_h, TITLE_SCALE, INK);
    }
    let site_cols = (WIDTH - 2 * MARGIN) / ((GLYPH_W + 1) * SITE_SCALE);
    if let Some(site_line) = wrap(site, site_cols, 1).first() {
        draw_text(&mut px, site_line, MARGIN, band_top + (120 - GLYPH_H * SITE_SCALE) / 2, SITE_SCALE, INK);
    }
    px
}

fn draw_text(px: &mut [u8], text: &str, x0: usize, y0: usize, scale: usize, color: u8) {
    for (i, c) in text.chars().enumerate() {
        let Some(rows) = glyph(c) else { continue };
        let gx = x0 + i * (GLYPH_W + 1) * scale;
        for (gy, bits) in rows.iter().enumerate() {
            for col in 0..GLYPH_W {
                if bits & (0x10 >> col) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    let y = y0 + gy * scale + dy;
                    let x = gx + col * scale;
                    if y < HEIGHT && x + scale <= WIDTH {
                        px[y * WIDTH + x..y * WIDTH + x + scale].fill(color);
                    }
                }
            }
        }
    }
}

/// The OG image for a post as PNG bytes.
#[must_use]
pub fn og_png(slug: &str, title: &str, site: &str) -> Vec<u8> {
    encode_indexed(WIDTH, HEIGHT, &palette(slug), &render(title, site))
}

/// Encodes an 8-bit indexed-colour PNG (`pixels`: `width * height` palette indices).
///
/// # Panics
/// If `pixels` does not hold `width * height` indices, or a dimension is 0 or too large.
#[must_use]
pub fn encode_indexed(width: usize, height: usize, palette: &[[u8; 3]], pixels: &[u8]) -> Vec<u8> {
    assert!(width > 0 && height > 0 && pixels.len() == width * height, "raster size");
    assert!(!palette.is_empty() && palette.len() <= 256, "palette size");
    let mut raw = Vec::with_capacity((width + 1) * height);
    for row in pixels.chunks(width) {
        raw.push(0); // filter type None
        raw.extend_from_slice(row);
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&u32::try_from(width).expect("width fits u32").to_be_bytes());
    ihdr.extend_from_slice(&u32::try_from(height).expect("height fits u32").to_be_bytes());
    ihdr.extend_from_slice(&[8, 3, 0, 0, 0]); // depth 8, indexed colour, deflate, filter 0, no interlace
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"PLTE", &palette.concat());
    chunk(&mut out, b"IDAT", &zlib(&raw, width + 1));
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).expect("chunk fits u32").to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// CRC-32 (ISO-HDLC, the one PNG uses).
#[must_use]
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Adler-32 (the zlib trailer).
#[must_use]
pub fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65_521;
        b %= 65_521;
    }
    (b << 16) | a
}

/// LSB-first bit writer (deflate's bit order).
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push((self.acc & 0xFF) as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    /// A Huffman code: sent most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        let rev = code.reverse_bits() >> (32 - len);
        self.put(rev, len);
    }
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push((self.acc & 0xFF) as u8);
        }
        self.out
    }
}

const LEN_BASE: [u16; 29] =
    [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] =
    [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/// A literal/length symbol with the fixed Huffman code (RFC 1951 §3.2.6).
fn fixed_symbol(bits: &mut Bits, sym: u16) {
    let sym = u32::from(sym);
    match sym {
        0..=143 => bits.code(0x30 + sym, 8),
        144..=255 => bits.code(0x190 + sym - 144, 9),
        256..=279 => bits.code(sym - 256, 7),
        _ => bits.code(0xC0 + sym - 280, 8),
    }
}

fn put_match(bits: &mut Bits, len: usize, dist: usize) {
    let li = LEN_BASE.iter().rposition(|&b| usize::from(b) <= len).expect("len >= 3");
    fixed_symbol(bits, 257 + li as u16);
    bits.put((len - usize::from(LEN_BASE[li])) as u32, u32::from(LEN_EXTRA[li]));
    let di = DIST_BASE.iter().rposition(|&b| usize::from(b) <= dist).expect("dist >= 1");
    bits.code(di as u32, 5);
    bits.put((dist - usize::from(DIST_BASE[di])) as u32, u32::from(DIST_EXTRA[di]));
}

/// A zlib stream of `data` in one fixed-Huffman block: greedy matches at distance 1 (a run) or
/// `stride` (the same bytes one row up), else literals.
#[must_use]
pub fn zlib(data: &[u8], stride: usize) -> Vec<u8> {
    let mut bits = Bits { out: vec![0x78, 0x01], acc: 0, n: 0 };
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE = 01, fixed Huffman
    let match_len = |i: usize, d: usize| -> usize {
        if d == 0 || d > i || d > 32_768 {
            return 0;
        }
        let max = (data.len() - i).min(258);
        (0..max).take_while(|&k| data[i + k] == data[i + k - d]).count()
    };
    let mut i = 0;
    while i < data.len() {
        let (l1, l2) = (match_len(i, 1), match_len(i, stride));
        let (len, dist) = if l2 >= l1 { (l2, stride) } else { (l1, 1) };
        if len >= 3 {
            put_match(&mut bits, len, dist);
            i += len;
        } else {
            fixed_symbol(&mut bits, u16::from(data[i]));
            i += 1;
        }
    }
    fixed_symbol(&mut bits, 256); // end of block
    let mut out = bits.finish();
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(png_bytes: &[u8]) -> (png::OutputInfo, Vec<u8>, Vec<u8>) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        decoder.set_transformations(png::Transformations::IDENTITY);
        let mut reader = decoder.read_info().expect("PNG header decodes");
        let palette = reader.info().palette.as_ref().expect("a PLTE chunk").to_vec();
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        let info = reader.next_frame(&mut buf).expect("image data decodes (zlib, Adler-32, CRCs)");
        buf.truncate(info.buffer_size());
        (info, buf, palette)
    }

    #[test]
    fn og_image_decodes_to_the_rendered_raster() {
        let bytes = og_png("hello-layers", "Hello, layers: Request -> Identity -> Storage", "layers demo");
        let (info, pixels, palette) = decode(&bytes);
        assert_eq!((info.width, info.height), (1200, 630));
        assert_eq!(info.color_type, png::ColorType::Indexed);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        assert_eq!(pixels, render("Hello, layers: Request -> Identity -> Storage", "layers demo"));
        assert_eq!(palette, palette_bytes("hello-layers"));
        // Text was drawn, and the encoder compresses (runs and repeated rows).
        assert!(pixels.iter().filter(|&&p| p == INK).count() > 10_000);
        assert!(bytes.len() < 100_000, "{} bytes", bytes.len());
    }

    fn palette_bytes(slug: &str) -> Vec<u8> {
        palette(slug).concat()
    }

    #[test]
    fn arbitrary_rasters_round_trip() {
        // Noise (literals), runs, repeated rows and odd sizes all decode to what went in.
        let mut seed = 0x1234_5678u32;
        for (w, h) in [(1, 1), (3, 2), (17, 9), (300, 40), (1200, 3)] {
            let px: Vec<u8> = (0..w * h)
                .map(|i| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    if i % 7 < 3 {
                        (seed % 4) as u8
                    } else {
                        (i / w % 4) as u8
                    }
                })
                .collect();
            let pal = [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]];
            let (info, out, _) = decode(&encode_indexed(w, h, &pal, &px));
            assert_eq!((info.width as usize, info.height as usize), (w, h));
            assert_eq!(out, px, "{w}x{h}");
        }
    }

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(adler32(&[]), 1);
        // Long input: the modulo is applied often enough.
        let long = vec![0xFFu8; 100_000];
        let (mut a, mut b) = (1u64, 0u64);
        for &x in &long {
            a = (a + u64::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        assert_eq!(u64::from(adler32(&long)), (b << 16) | a);
    }

    #[test]
    fn titles_wrap_and_unknown_characters_show() {
        assert_eq!(wrap("one two three", 7, 4), ["one two", "three"]);
        assert_eq!(wrap("a b c d e f", 3, 2), ["a b", "..."]);
        assert_eq!(wrap("naïve", 10, 1), ["na?ve"]);
        assert!(wrap("", 10, 2).is_empty());
    }

    #[test]
    fn slugs_get_different_colours() {
        assert_ne!(palette("hello-layers")[0], palette("why-claims")[0]);
        assert_eq!(palette("x"), palette("x"));
    }
}
