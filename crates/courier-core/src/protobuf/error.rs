/// `courier.Error` (`proto/courier.proto`): how faults travel on the protobuf channel,
/// with the same code and message as on every other channel.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ErrorMessage {
    /// The fault's code (`not_found`, `bad_request`, ...; `method_error` for a method's own error).
    #[prost(string, tag = "1")]
    pub code: String,
    /// What happened; for a method's own error, the error as JSON.
    #[prost(string, tag = "2")]
    pub message: String,
}
