//! Reading a body whole. A body that comes in one frame, as every body of a multiplexed
//! connection does, is handed on as it is, without a buffer to gather frames in.

use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Body;

/// Every byte of `body`, its trailers left out.
pub(crate) async fn whole<B>(mut body: B) -> Result<Bytes, B::Error>
where
    B: Body<Data = Bytes> + Unpin,
{
    let mut first: Option<Bytes> = None;
    let mut gathered: Option<BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else { continue };
        match (&mut gathered, first.take()) {
            (Some(gathered), _) => gathered.put(data),
            (None, None) => first = Some(data),
            (None, Some(earlier)) => {
                let mut both = BytesMut::with_capacity(earlier.len() + data.len());
                both.put(earlier);
                both.put(data);
                gathered = Some(both);
            }
        }
    }
    Ok(gathered.map_or_else(|| first.unwrap_or_default(), BytesMut::freeze))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};
    use hyper::body::Frame;
    use std::convert::Infallible;

    #[tokio::test]
    async fn one_frame_is_passed_on_and_many_are_joined() {
        let one = Bytes::from_static(b"one frame");
        let read = whole(Full::new(one.clone())).await.unwrap();
        assert_eq!(read.as_ptr(), one.as_ptr(), "the frame itself, not a copy");

        let frames =
            ["a", "bc", "", "def"].map(|part| Ok::<_, Infallible>(Frame::data(Bytes::from_static(part.as_bytes()))));
        let many = StreamBody::new(futures_util::stream::iter(frames));
        assert_eq!(whole(many).await.unwrap(), "abcdef");
        assert_eq!(whole(http_body_util::Empty::<Bytes>::new()).await.unwrap(), "");
    }
}
