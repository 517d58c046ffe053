//! A zip archive of a few small files, stored without compression: what the OneRoster
//! CSV binding asks for (one zip of CSV files). Written by hand (local headers, central
//! directory, end record, CRC-32) rather than with a dependency: about seventy lines,
//! and no compression to get wrong. Files and archive stay well below 4 GiB (no Zip64).

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zip requires.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *slot = c;
    }
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc = table[((crc ^ u32::from(*b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    crc ^ 0xFFFF_FFFF
}

/// The archive of `files` (name, content), in order. `None` if a file or the archive
/// is too large for a zip without Zip64 (4 GiB, 65,535 files).
pub fn archive<N: AsRef<str>>(files: &[(N, Vec<u8>)]) -> Option<Vec<u8>> {
    // 1980-01-01 00:00, the earliest DOS date: the archive is the same for the same files.
    const DOS_TIME: u16 = 0;
    const DOS_DATE: u16 = 0x21;
    let mut out: Vec<u8> = Vec::new();
    let mut central: Vec<u8> = Vec::new();
    for (name, content) in files {
        let name = name.as_ref();
        let offset = u32::try_from(out.len()).ok()?;
        let size = u32::try_from(content.len()).ok()?;
        let name_len = u16::try_from(name.len()).ok()?;
        let crc = crc32(content);
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        for v in [20u16, 0x0800, 0, DOS_TIME, DOS_DATE] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, size, size] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(content);
        // Its central directory entry.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        for v in [20u16, 20, 0x0800, 0, DOS_TIME, DOS_DATE] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, size, size] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        for v in [name_len, 0, 0, 0, 0] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let count = u16::try_from(files.len()).ok()?;
    let central_at = u32::try_from(out.len()).ok()?;
    let central_len = u32::try_from(central.len()).ok()?;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, count, count] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&central_len.to_le_bytes());
    out.extend_from_slice(&central_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_check_value() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn the_archive_lists_its_files_in_order_with_their_content() {
        let zip = archive(&[("a.csv", b"x,y\r\n".to_vec()), ("b.csv", Vec::new())]).unwrap();
        assert_eq!(&zip[..4], b"PK\x03\x04");
        // The end record counts two files.
        let end = zip.len() - 22;
        assert_eq!(&zip[end..end + 4], b"PK\x05\x06");
        assert_eq!(u16::from_le_bytes([zip[end + 10], zip[end + 11]]), 2);
        // The first file's content follows its header and name.
        assert_eq!(&zip[30..35], b"a.csv");
        assert_eq!(&zip[35..40], b"x,y\r\n");
        // The central directory starts where the end record says.
        let at = u32::from_le_bytes(zip[end + 16..end + 20].try_into().unwrap()) as usize;
        assert_eq!(&zip[at..at + 4], b"PK\x01\x02");
    }
}
