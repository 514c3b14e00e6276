//! Multipart form reading with a size limit: text fields, and one file.

use crate::error::AppError;
use actix_multipart::Multipart;
use futures_util::StreamExt;
use std::collections::HashMap;

pub struct Upload {
    pub fields: HashMap<String, String>,
    pub file: Option<(String, Vec<u8>)>,
}

/// Read the whole form; a file over `max_bytes` is refused while streaming,
/// before it is held in memory.
pub async fn read(mut payload: Multipart, max_bytes: usize) -> Result<Upload, AppError> {
    let mut fields = HashMap::new();
    let mut file = None;
    while let Some(item) = payload.next().await {
        let mut field = item.map_err(|e| {
            AppError::invalid("file", "upload_invalid", format!("上传内容无法读取：{e}"))
        })?;
        let name = field.name().unwrap_or_default().to_string();
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let mut buf = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| {
                AppError::invalid("file", "upload_invalid", format!("上传中断：{e}"))
            })?;
            if buf.len() + chunk.len() > max_bytes {
                return Err(AppError::invalid(
                    "file",
                    "file_too_large",
                    format!("文件超过{}MB上限", max_bytes / (1024 * 1024)),
                ));
            }
            buf.extend_from_slice(&chunk);
        }
        match filename {
            Some(f) if name == "file" => file = Some((f, buf)),
            _ => {
                fields.insert(name, String::from_utf8_lossy(&buf).into_owned());
            }
        }
    }
    Ok(Upload { fields, file })
}
