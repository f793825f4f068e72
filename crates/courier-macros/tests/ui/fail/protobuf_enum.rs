use courier::prelude::*;

#[derive(Default, ProtoMessage)]
pub enum Shape {
    #[default]
    Point,
}

fn main() {}
