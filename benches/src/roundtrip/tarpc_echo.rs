//! The peer framework: tarpc, its echo service over TCP with bincode, both ends set up
//! as tarpc's own examples do (length-delimited frames, one multiplexed connection per
//! client), with `TCP_NODELAY` as every other stack here has it.

use crate::Error;
use courier_samples::Node;
use futures_util::{future, StreamExt};
use tarpc::{
    client, context,
    serde_transport::{self, Transport},
    server::{BaseChannel, Channel},
    tokio_serde::formats::Bincode,
    tokio_util::codec::LengthDelimitedCodec,
};
use tokio::net::{TcpListener, TcpStream};

/// Echoes trees.
#[tarpc::service]
pub(crate) trait Echo {
    /// `tree`, as it came.
    async fn echo(tree: Node) -> Node;
}

#[derive(Clone)]
struct Reflector;

impl Echo for Reflector {
    async fn echo(self, _: context::Context, tree: Node) -> Node {
        tree
    }
}

/// A transport over `stream`, with frames as large as the other stacks' bodies may be.
fn transport<Item, SinkItem>(stream: TcpStream) -> Transport<TcpStream, Item, SinkItem, Bincode<Item, SinkItem>>
where
    Item: for<'de> tarpc::serde::Deserialize<'de>,
    SinkItem: tarpc::serde::Serialize,
{
    let framed = LengthDelimitedCodec::builder().max_frame_length(4 << 20).new_framed(stream);
    serde_transport::new(framed, Bincode::default())
}

/// Serves [`Echo`] on `listener`: each connection's requests run as tasks of their own.
pub(crate) async fn serve(listener: TcpListener) -> Result<(), Error> {
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let channel = BaseChannel::with_defaults(transport(stream));
        tokio::spawn(channel.execute(Reflector.serve()).for_each(|response| {
            tokio::spawn(response);
            future::ready(())
        }));
    }
}

/// A client of the server at `address` (`host:port`).
pub(crate) async fn connect(address: &str) -> Result<EchoClient, Error> {
    let stream = TcpStream::connect(address).await?;
    stream.set_nodelay(true)?;
    Ok(EchoClient::new(client::Config::default(), transport(stream)).spawn())
}

/// One call.
pub(crate) async fn echo(client: &EchoClient, tree: Node) -> Result<Node, Error> {
    Ok(client.echo(context::current(), tree).await?)
}
