//! A value of the file together with where it was written.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_saphyr::{Location, Spanned};

/// A place in a file: 1-based line and column (in characters), and how many
/// characters the value spans there. All zero when unknown, e.g. for values a
/// program built rather than read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    /// Characters to underline; 0 when unknown.
    pub len: usize,
}

impl Pos {
    /// Whether this points somewhere in a file.
    pub fn is_known(self) -> bool {
        self.line > 0
    }
}

impl From<Location> for Pos {
    fn from(location: Location) -> Self {
        if location == Location::UNKNOWN {
            return Pos::default();
        }
        Pos {
            line: usize::try_from(location.line()).unwrap_or(usize::MAX),
            column: usize::try_from(location.column()).unwrap_or(usize::MAX),
            len: usize::try_from(location.span().len()).unwrap_or(0),
        }
    }
}

/// A value read from the file with its position, so that a semantic error
/// found after parsing can still point at the exact place.
///
/// It reads through serde-saphyr's [`Spanned`], writes as the bare value, and
/// has the bare value's JSON Schema. Equality, ordering and hashing look at the
/// value only: the same name written in two places is the same name.
#[derive(Debug, Clone, Default)]
pub struct Located<T> {
    pub value: T,
    pub pos: Pos,
}

impl<T> Located<T> {
    /// A value with no place in a file (built by a program, e.g. `import`).
    pub fn new(value: T) -> Self {
        Located {
            value,
            pos: Pos::default(),
        }
    }
}

impl<T> From<T> for Located<T> {
    fn from(value: T) -> Self {
        Located::new(value)
    }
}

impl<T> Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Located<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Located<T> {}

impl<T: PartialOrd> PartialOrd for Located<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.value.partial_cmp(&other.value)
    }
}

impl<T: Ord> Ord for Located<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.value.cmp(&other.value)
    }
}

impl<T: Hash> Hash for Located<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<T>::deserialize(deserializer)?;
        Ok(Located {
            value: spanned.value,
            pos: Pos::from(spanned.referenced),
        })
    }
}

impl<T: Serialize> Serialize for Located<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

impl<T: JsonSchema> JsonSchema for Located<T> {
    // Inline, so that field attributes (length, pattern) land on the value's
    // own schema rather than on a shared definition.
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> schemars::Schema {
        generator.subschema_for::<T>()
    }
}
