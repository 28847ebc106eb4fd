//! A compact way to write Terraform schemas, and to list what they contain
//! (the docs test checks every attribute is documented).

use tf_provider::schema::{
    Attribute, AttributeConstraint, Block, Description, NestedBlock, Schema,
};

pub use tf_provider::schema::AttributeType as Type;

pub fn string_list() -> Type {
    Type::List(Box::new(Type::String))
}

/// An unordered collection of distinct strings: reordering plans nothing,
/// duplicates collapse (Terraform's `set(string)`).
pub fn string_set() -> Type {
    Type::Set(Box::new(Type::String))
}

pub fn string_map() -> Type {
    Type::Map(Box::new(Type::String))
}

/// A block under construction.
pub struct BlockBuilder {
    block: Block,
}

pub fn block(description: &str) -> BlockBuilder {
    BlockBuilder {
        block: Block {
            version: 0,
            description: Description::markdown(description),
            ..Block::default()
        },
    }
}

impl BlockBuilder {
    fn attribute(
        mut self,
        name: &str,
        ty: Type,
        constraint: AttributeConstraint,
        doc: &str,
    ) -> Self {
        self.block.attributes.insert(
            name.to_string(),
            Attribute {
                attr_type: ty,
                description: Description::markdown(doc),
                constraint,
                sensitive: false,
                deprecated: false,
            },
        );
        self
    }

    pub fn required(self, name: &str, ty: Type, doc: &str) -> Self {
        self.attribute(name, ty, AttributeConstraint::Required, doc)
    }

    pub fn optional(self, name: &str, ty: Type, doc: &str) -> Self {
        self.attribute(name, ty, AttributeConstraint::Optional, doc)
    }

    /// Optional; when omitted the provider fills in the default at plan.
    pub fn defaulted(self, name: &str, ty: Type, doc: &str) -> Self {
        self.attribute(name, ty, AttributeConstraint::OptionalComputed, doc)
    }

    pub fn computed(self, name: &str, ty: Type, doc: &str) -> Self {
        self.attribute(name, ty, AttributeConstraint::Computed, doc)
    }

    /// An optional nested block that may appear at most once.
    pub fn single_block(mut self, name: &str, inner: BlockBuilder) -> Self {
        self.block
            .blocks
            .insert(name.to_string(), NestedBlock::Optional(inner.block));
        self
    }

    pub fn build(self) -> Block {
        self.block
    }

    pub fn schema(self, version: i64) -> Schema {
        Schema {
            version,
            block: Block {
                version,
                ..self.block
            },
        }
    }
}

/// Every attribute path of a block, dotted (`timeouts.create`), for docs
/// checks.
pub fn attribute_paths(block: &Block) -> Vec<String> {
    let mut out: Vec<String> = block.attributes.keys().cloned().collect();
    for (name, nested) in &block.blocks {
        let inner = match nested {
            NestedBlock::Single(b)
            | NestedBlock::List(b)
            | NestedBlock::Set(b)
            | NestedBlock::Map(b)
            | NestedBlock::Group(b)
            | NestedBlock::Optional(b) => b,
        };
        out.push(name.clone());
        out.extend(
            attribute_paths(inner)
                .into_iter()
                .map(|p| format!("{name}.{p}")),
        );
    }
    out.sort();
    out
}

/// The `timeouts` block every long-running resource has.
pub fn timeouts_block(default: &str) -> BlockBuilder {
    block("How long each operation may take before it fails.")
        .optional(
            "create",
            Type::String,
            &format!("Time allowed for creation. Default `{default}`."),
        )
        .optional(
            "update",
            Type::String,
            &format!("Time allowed for an update. Default `{default}`."),
        )
        .optional(
            "delete",
            Type::String,
            &format!("Time allowed for deletion. Default `{default}`."),
        )
}

/// Give `state` every attribute and block of `block` it lacks (null, or an
/// empty list for blocks): Terraform rejects objects with missing attributes,
/// and an imported state starts from only what AWS could tell.
pub fn complete_object(state: &mut crate::tf::value::Value, block: &Block) {
    use crate::tf::value::Value;
    for name in block.attributes.keys() {
        if matches!(state.get(name), Value::Null) {
            state.set(name, Value::Null);
        }
    }
    for name in block.blocks.keys() {
        if matches!(state.get(name), Value::Null) {
            state.set(name, Value::List(Vec::new()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tf::value::Value;

    #[test]
    fn complete_object_adds_missing_attributes_and_blocks() {
        let b = block("x")
            .required("a", Type::String, "a")
            .optional("b", Type::String, "b")
            .single_block("t", block("t").optional("c", Type::String, "c"))
            .build();
        let mut v = Value::Null;
        v.set("a", "set".into());
        complete_object(&mut v, &b);
        let Value::Map(m) = &v else { panic!() };
        assert_eq!(m.len(), 3);
        assert_eq!(v.get("a"), &Value::str("set"));
        assert_eq!(v.get("t"), &Value::List(vec![]));
    }
}
