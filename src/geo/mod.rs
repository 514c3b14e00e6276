//! Plot geometry: GeoJSON in, validated polygon and geodesic area out.
//!
//! Every polygon a user sends is checked before it is measured or stored:
//! closed rings of at least three distinct corners, coordinates that are
//! longitude/latitude, an extent an orchard can have, no ring crossing itself
//! or another ring, holes inside their shell and not inside each other. The
//! crossing test indexes the segments in an R-tree, so a ring of n corners is
//! checked in about n log n steps instead of comparing every pair of edges.

use crate::error::ErrorCode;
use std::fmt;
use std::time::{Duration, Instant};

mod checks;
mod measure;
mod overlaps;
mod parse;
#[cfg(test)]
mod test_support;

pub use measure::{
    area_difference_percent, area_mu, check_point, interiors_overlap, to_geojson, PointCheck,
};
pub use overlaps::{overlapping_pairs, Overlap};
pub use parse::{parse_polygon, polygon_from_geometry, read_stored, vertex_count};

/// Corners allowed in one plot's boundary (shell and holes together, counted
/// as positions written in the file, closing ones included).
///
/// A surveyed orchard plot has tens of corners; a boundary traced by a GPS
/// walk at one point a metre round a 100-mu plot has about a thousand. 5,000
/// is well beyond any real survey while keeping the worst case of one
/// polygon's checks to milliseconds.
pub const MAX_VERTICES_PER_POLYGON: usize = 5_000;

/// Corners allowed in one upload, all features together.
///
/// A township of a few thousand plots at a few dozen corners each is under
/// 100,000; 200,000 leaves room for detailed surveys while bounding one
/// upload's work to well under a second and its text to about 8 MB.
pub const MAX_VERTICES_PER_UPLOAD: usize = 200_000;

/// Features allowed in one upload: several times a township's plots.
pub const MAX_FEATURES_PER_UPLOAD: usize = 50_000;

/// Largest extent of one plot, in degrees of longitude or latitude (about
/// 50 km): an orchard plot is hectares, not provinces. Anything larger is a
/// typing error, swapped coordinates or several plots drawn as one.
pub const MAX_EXTENT_DEGREES: f64 = 0.5;

/// How long the checks of one upload may run before they are abandoned. The
/// limits above keep real work far below this; it guards against inputs that
/// are within the limits but pathological (thousands of long crossing edges).
pub const CHECK_TIME_LIMIT: Duration = Duration::from_secs(10);

/// When long geometry work must stop. `Deadline::none()` never expires.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Option<Instant>, Duration);

impl Deadline {
    pub fn after(limit: Duration) -> Deadline {
        Deadline(Instant::now().checked_add(limit), limit)
    }

    pub fn none() -> Deadline {
        Deadline(None, Duration::ZERO)
    }

    pub fn check(&self) -> Result<(), GeometryError> {
        match self.0 {
            Some(t) if Instant::now() >= t => Err(GeometryError::TimedOut {
                seconds: self.1.as_secs(),
            }),
            _ => Ok(()),
        }
    }
}

/// Which ring of a polygon a message is about: the shell, or the k-th hole (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ring {
    Shell,
    Hole(usize),
}

impl Ring {
    fn of(index: usize) -> Ring {
        if index == 0 {
            Ring::Shell
        } else {
            Ring::Hole(index)
        }
    }
}

impl fmt::Display for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ring::Shell => write!(f, "外边界"),
            Ring::Hole(k) => write!(f, "第{k}个内洞"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryError {
    #[error("地块边界不是有效的GeoJSON：{0}")]
    NotGeoJson(String),
    #[error("地块边界必须是一个多边形（Polygon，或只含一个多边形的MultiPolygon）")]
    NotPolygon,
    #[error("地块边界有{count}个顶点，超过每块地{max}个的上限：实测地块通常只有几十到几百个顶点，请先抽稀（简化）边界再上传")]
    TooManyVertices { count: usize, max: usize },
    #[error("{ring}中有坐标不是[经度, 纬度]两个数")]
    BadPosition { ring: Ring },
    #[error("{ring}的坐标（经度{lon}，纬度{lat}）超出范围：经度应在-180到180之间，纬度应在-90到90之间（经度在前，纬度在后）")]
    OutOfRange { ring: Ring, lon: f64, lat: f64 },
    #[error("{ring}没有闭合：GeoJSON要求每个环的最后一个顶点与第一个顶点相同")]
    NotClosed { ring: Ring },
    #[error("{ring}只有{distinct}个不同的顶点，至少需要3个")]
    TooFewPoints { ring: Ring, distinct: usize },
    #[error("{ring}的面积为零：顶点都在一条直线上")]
    Degenerate { ring: Ring },
    #[error("地块边界跨越了180°经线（东西跨{lon_span:.3}°）：请检查经度的正负号")]
    CrossesAntimeridian { lon_span: f64 },
    #[error("地块边界范围过大：东西跨{lon_span:.3}°、南北跨{lat_span:.3}°，一个地块不应超过{max}°：请检查坐标是否写错，或是否把多个地块画成了一块")]
    TooLarge {
        lon_span: f64,
        lat_span: f64,
        max: f64,
    },
    #[error("{ring}自相交（约在经度{lon:.6}、纬度{lat:.6}处），请检查顶点顺序")]
    SelfIntersecting { ring: Ring, lon: f64, lat: f64 },
    #[error("第{hole}个内洞与外边界相交或接触（约在经度{lon:.6}、纬度{lat:.6}处）：内洞必须完全画在外边界以内")]
    HoleCrossesShell { hole: usize, lon: f64, lat: f64 },
    #[error("第{first}个内洞与第{second}个内洞相交或接触（约在经度{lon:.6}、纬度{lat:.6}处）")]
    HolesCross {
        first: usize,
        second: usize,
        lon: f64,
        lat: f64,
    },
    #[error("第{hole}个内洞不在外边界以内：内洞（地块中不投保的部分）必须画在地块边界里面")]
    HoleOutsideShell { hole: usize },
    #[error("第{inner}个内洞位于第{outer}个内洞之中：内洞不能嵌套")]
    HoleInsideHole { inner: usize, outer: usize },
    #[error(
        "地块边界检查超过{seconds}秒仍未完成，已停止：请把文件拆成较小的几份（例如按村）后再上传"
    )]
    TimedOut { seconds: u64 },
}

impl GeometryError {
    pub fn code(&self) -> ErrorCode {
        match self {
            GeometryError::NotGeoJson(_) => ErrorCode::BoundaryNotGeojson,
            GeometryError::NotPolygon => ErrorCode::BoundaryNotPolygon,
            GeometryError::TooManyVertices { .. } => ErrorCode::BoundaryTooManyVertices,
            GeometryError::BadPosition { .. } => ErrorCode::BoundaryBadPosition,
            GeometryError::OutOfRange { .. } => ErrorCode::BoundaryOutOfRange,
            GeometryError::NotClosed { .. } => ErrorCode::BoundaryNotClosed,
            GeometryError::TooFewPoints { .. } => ErrorCode::BoundaryTooFewPoints,
            GeometryError::Degenerate { .. } => ErrorCode::BoundaryDegenerate,
            GeometryError::CrossesAntimeridian { .. } => ErrorCode::BoundaryAntimeridian,
            GeometryError::TooLarge { .. } => ErrorCode::BoundaryTooLarge,
            GeometryError::SelfIntersecting { .. } => ErrorCode::BoundarySelfIntersecting,
            GeometryError::HoleCrossesShell { .. } => ErrorCode::BoundaryHoleCrossesShell,
            GeometryError::HolesCross { .. } => ErrorCode::BoundaryHolesCross,
            GeometryError::HoleOutsideShell { .. } => ErrorCode::BoundaryHoleOutsideShell,
            GeometryError::HoleInsideHole { .. } => ErrorCode::BoundaryHoleInHole,
            GeometryError::TimedOut { .. } => ErrorCode::BoundaryCheckTimeout,
        }
    }
}
