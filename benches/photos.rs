//! Photo check benchmark (run: `cargo bench --bench photos`): how long the
//! full decode every survey photo goes through takes on a camera-sized JPEG,
//! against reading only its dimensions from the header.

use guobao::app::claims::image_facts;
use std::time::Instant;

fn main() {
    // Noise, so the file is as large as a camera's (about 4 MB).
    let img = image::RgbImage::from_fn(2600, 1950, |x, y| {
        let n = x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503);
        image::Rgb([(n >> 7) as u8, (n >> 13) as u8, (n >> 19) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode the test photo");
    let big = out.into_inner();
    let t = Instant::now();
    let facts = image_facts(&big).expect("the test photo decodes");
    let full = t.elapsed();
    let t = Instant::now();
    let dims =
        image::ImageReader::with_format(std::io::Cursor::new(&big), image::ImageFormat::Jpeg)
            .into_dimensions()
            .expect("the test photo has a header");
    println!(
        "{} bytes, {facts:?}: full decode {full:?}, dimensions only {:?} {dims:?}",
        big.len(),
        t.elapsed()
    );
}
