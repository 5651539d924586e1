//! Proto-JSON number encodings: int64 may travel as a string, doubles may be the strings
//! `"NaN"`, `"Infinity"` and `"-Infinity"`.

use serde::{Deserialize, Deserializer, Serializer};

/// Reads an int64 given as a JSON number or a decimal string.
pub fn int64_from_value(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| {
            // Proto-JSON accepts integral floats such as 5.0 or 1e3.
            n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18).map(|f| f as i64)
        }),
        serde_json::Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// Reads a double given as a JSON number, a numeric string, or one of the special names.
pub fn double_from_value(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            other => other.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        },
        _ => None,
    }
}

/// Serialises a double the way MLflow's server does: non-finite values as strings.
pub fn serialize_double<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_nan() {
        s.serialize_str("NaN")
    } else if *v == f64::INFINITY {
        s.serialize_str("Infinity")
    } else if *v == f64::NEG_INFINITY {
        s.serialize_str("-Infinity")
    } else {
        s.serialize_f64(*v)
    }
}

/// Deserialises a double from any proto-JSON encoding.
pub fn deserialize_double<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    double_from_value(&v).ok_or_else(|| serde::de::Error::custom(format!("invalid double: {v}")))
}

/// Deserialises an int64 from a number or a string.
pub fn deserialize_int64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    int64_from_value(&v).ok_or_else(|| serde::de::Error::custom(format!("invalid int64: {v}")))
}

/// Deserialises an optional int64 from a number, a string or null.
pub fn deserialize_opt_int64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    if v.is_null() {
        return Ok(None);
    }
    int64_from_value(&v).map(Some).ok_or_else(|| serde::de::Error::custom(format!("invalid int64: {v}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn int64_accepts_numbers_and_strings() {
        assert_eq!(int64_from_value(&json!(5)), Some(5));
        assert_eq!(int64_from_value(&json!("-12")), Some(-12));
        assert_eq!(int64_from_value(&json!(5.0)), Some(5));
        assert_eq!(int64_from_value(&json!(5.5)), None);
        assert_eq!(int64_from_value(&json!("x")), None);
        assert_eq!(int64_from_value(&json!(true)), None);
    }

    #[test]
    fn doubles_accept_special_names() {
        assert!(double_from_value(&json!("NaN")).unwrap().is_nan());
        assert_eq!(double_from_value(&json!("-Infinity")), Some(f64::NEG_INFINITY));
        assert_eq!(double_from_value(&json!("1.5")), Some(1.5));
        assert_eq!(double_from_value(&json!("inf")), None);
    }
}
