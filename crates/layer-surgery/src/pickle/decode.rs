//! Decoding the operands of opcodes: fixed-size integers, lengths checked
//! against the bytes that remain, text lines, integers and strings.

use super::PickleError;
use super::machine::{FALSE_ID, Machine, TRUE_ID};
use super::objects::Obj;

impl<'a> Machine<'a> {
    pub(super) fn take(&mut self, count: u64) -> Result<&'a [u8], PickleError> {
        let remaining = self.data.len() - self.pos;
        match usize::try_from(count) {
            Ok(count) if count <= remaining => {
                let bytes = &self.data[self.pos..self.pos + count];
                self.pos += count;
                Ok(bytes)
            }
            _ => Err(PickleError::Truncated {
                offset: self.op_start,
                opcode: self.op_name,
                needed: count - remaining as u64,
            }),
        }
    }

    pub(super) fn read_u8(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    pub(super) fn read_u32(&mut self) -> Result<u32, PickleError> {
        let bytes = self.take(4)?;
        Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    pub(super) fn read_u64(&mut self) -> Result<u64, PickleError> {
        let bytes = self.take(8)?;
        let mut array = [0u8; 8];
        array.copy_from_slice(bytes);
        Ok(u64::from_le_bytes(array))
    }

    pub(super) fn read_i32_length(&mut self) -> Result<u64, PickleError> {
        let bytes = self.take(4)?;
        let length = i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        u64::try_from(length).map_err(|_| self.invalid(format!("negative length {length}")))
    }

    /// Reads up to the next newline, which is consumed but not returned.
    pub(super) fn read_line(&mut self) -> Result<&'a [u8], PickleError> {
        let rest = &self.data[self.pos..];
        let Some(end) = rest.iter().position(|&byte| byte == b'\n') else {
            return Err(PickleError::Truncated {
                offset: self.op_start,
                opcode: self.op_name,
                needed: 1,
            });
        };
        self.pos += end + 1;
        Ok(&rest[..end])
    }

    pub(super) fn parse_text_int(&self, digits: &[u8]) -> Result<i64, PickleError> {
        std::str::from_utf8(digits)
            .ok()
            .and_then(|text| text.trim().parse::<i64>().ok())
            .ok_or_else(|| {
                self.invalid(format!("{digits:?} is not an integer that fits in 64 bits"))
            })
    }

    pub(super) fn text_int(&mut self) -> Result<(), PickleError> {
        let line = self.read_line()?;
        // Protocol 0 spells booleans as INT 00 and INT 01.
        match line {
            b"00" => self.stack.push(FALSE_ID),
            b"01" => self.stack.push(TRUE_ID),
            digits => {
                let number = self.parse_text_int(digits)?;
                self.push(Obj::Int(number));
            }
        }
        Ok(())
    }

    pub(super) fn text_memo_key(&mut self) -> Result<u32, PickleError> {
        let line = self.read_line()?;
        let number = self.parse_text_int(line)?;
        u32::try_from(number).map_err(|_| self.invalid(format!("memo key {number} out of range")))
    }

    /// Decodes a little-endian two's complement integer of `length` bytes.
    pub(super) fn long(&mut self, length: u64) -> Result<(), PickleError> {
        let bytes = self.take(length)?;
        let negative = bytes.last().is_some_and(|&byte| byte & 0x80 != 0);
        let fill = if negative { 0xff } else { 0x00 };
        let significant = bytes
            .iter()
            .rposition(|&byte| byte != fill)
            .map_or(0, |position| position + 1);
        // One more byte may be needed for the sign when the top bit disagrees.
        let fits = significant < 8 || (significant == 8 && (bytes[7] & 0x80 != 0) == negative);
        if !fits {
            self.push(Obj::BigInt(bytes.to_vec()));
            return Ok(());
        }
        let mut array = [fill; 8];
        let used = bytes.len().min(8);
        array[..used].copy_from_slice(&bytes[..used]);
        self.push(Obj::Int(i64::from_le_bytes(array)));
        Ok(())
    }

    pub(super) fn string(&mut self, length: u64) -> Result<(), PickleError> {
        let bytes = self.take(length)?;
        let text = std::str::from_utf8(bytes)
            .map_err(|error| self.invalid(format!("string is not valid UTF-8: {error}")))?;
        self.push(Obj::Str(text.to_owned()));
        Ok(())
    }

    pub(super) fn bytes(&mut self, length: u64) -> Result<(), PickleError> {
        let bytes = self.take(length)?.to_vec();
        self.push(Obj::Bytes(bytes));
        Ok(())
    }
}
