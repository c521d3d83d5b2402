//! Stores and sensors: the embedded default chain (the original's 10 stores and 83
//! sensors), the user's own CSV files, or a synthetic chain of any size for scale runs.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rand_core::{RngCore, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};

const EMBEDDED_STORES: &str = include_str!("../data/magasins.csv");
const EMBEDDED_SENSORS: &str = include_str!("../data/capteurs.csv");

/// Sensor coefficients observed in the original chain.
const SENSOR_COEFS: [f64; 5] = [0.64, 0.81, 0.84, 1.1, 1.18];
/// Store coefficients observed in the original chain.
const STORE_COEFS: [f64; 10] = [1.5, 1.2, 1.3, 1.1, 1.0, 0.95, 1.25, 1.05, 1.0, 0.9];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Store {
    pub store_id: u32,
    pub city_store: String,
    pub coef: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensor {
    pub sensor_id: u32,
    pub store_id: u32,
    pub coef: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("cannot read {file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}, line {line}: {message}")]
    Invalid {
        file: String,
        line: u64,
        message: String,
    },
    #[error("{file}: {message}")]
    Inconsistent { file: String, message: String },
}

/// The chain: stores sorted by id, each with its sensors sorted by id.
#[derive(Debug, Clone)]
pub struct Reference {
    stores: Vec<Store>,
    sensors: Vec<Vec<Sensor>>,
    index_by_id: HashMap<u32, usize>,
    index_by_city: HashMap<String, usize>,
}

impl Reference {
    /// The original chain, compiled into the binary.
    pub fn embedded() -> Self {
        // The embedded files are checked by a unit test; a failure here is a build defect.
        Self::from_csv_str(EMBEDDED_STORES, EMBEDDED_SENSORS)
            .unwrap_or_else(|e| panic!("embedded reference data is invalid: {e}"))
    }

    /// Reads a `store_id,city_store,coef` file and a `sensor_id,store_id,coef` file.
    pub fn from_csv_files(stores: &Path, sensors: &Path) -> Result<Self, ReferenceError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|source| ReferenceError::Io {
                file: p.display().to_string(),
                source,
            })
        };
        let stores_text = read(stores)?;
        let sensors_text = read(sensors)?;
        let sensors_name = sensors.display().to_string();
        let stores = parse_rows::<Store>(&stores_text, &stores.display().to_string())?;
        let sensors = parse_rows::<Sensor>(&sensors_text, &sensors_name)?;
        Self::from_parts(stores, sensors, &sensors_name)
    }

    /// Same as [`Reference::from_csv_files`] from in-memory text.
    pub fn from_csv_str(stores: &str, sensors: &str) -> Result<Self, ReferenceError> {
        let stores = parse_rows::<Store>(stores, "magasins.csv")?;
        let sensors = parse_rows::<Sensor>(sensors, "capteurs.csv")?;
        Self::from_parts(stores, sensors, "capteurs.csv")
    }

    /// A deterministic synthetic chain of `n_stores` stores with 5 to 12 sensors each,
    /// coefficients drawn from the original chain's sets. Store `k` is called `Magasin-k`.
    pub fn synthetic(n_stores: u32, seed: u64) -> Result<Self, ReferenceError> {
        if n_stores == 0 {
            return Err(ReferenceError::Inconsistent {
                file: "synthetic".into(),
                message: "a chain needs at least one store".into(),
            });
        }
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let mut stores = Vec::with_capacity(n_stores as usize);
        let mut sensors = Vec::new();
        for store_id in 1..=n_stores {
            let coef = STORE_COEFS[(rng.next_u32() as usize) % STORE_COEFS.len()];
            stores.push(Store {
                store_id,
                city_store: format!("Magasin-{store_id}"),
                coef,
            });
            let count = 5 + rng.next_u32() % 8;
            for sensor_id in 1..=count {
                let coef = SENSOR_COEFS[(rng.next_u32() as usize) % SENSOR_COEFS.len()];
                sensors.push(Sensor {
                    sensor_id,
                    store_id,
                    coef,
                });
            }
        }
        Self::from_parts(stores, sensors, "synthetic")
    }

    fn from_parts(
        mut stores: Vec<Store>,
        sensors: Vec<Sensor>,
        sensors_file: &str,
    ) -> Result<Self, ReferenceError> {
        let inconsistent = |file: &str, message: String| ReferenceError::Inconsistent {
            file: file.to_string(),
            message,
        };
        if stores.is_empty() {
            return Err(inconsistent("stores", "no store defined".into()));
        }
        stores.sort_by_key(|s| s.store_id);
        let mut index_by_id = HashMap::with_capacity(stores.len());
        let mut index_by_city = HashMap::with_capacity(stores.len());
        for (i, store) in stores.iter().enumerate() {
            if store.city_store.trim().is_empty() {
                return Err(inconsistent(
                    "stores",
                    format!("store {} has an empty city_store", store.store_id),
                ));
            }
            if !(store.coef.is_finite() && store.coef > 0.0) {
                return Err(inconsistent(
                    "stores",
                    format!(
                        "store {} has a coefficient that is not positive",
                        store.store_id
                    ),
                ));
            }
            if index_by_id.insert(store.store_id, i).is_some() {
                return Err(inconsistent(
                    "stores",
                    format!("store_id {} appears twice", store.store_id),
                ));
            }
            if index_by_city
                .insert(normalize_city(&store.city_store), i)
                .is_some()
            {
                return Err(inconsistent(
                    "stores",
                    format!("city_store {:?} appears twice", store.city_store),
                ));
            }
        }
        let mut by_store: Vec<Vec<Sensor>> = vec![Vec::new(); stores.len()];
        let mut seen = HashSet::new();
        for sensor in sensors {
            let Some(&i) = index_by_id.get(&sensor.store_id) else {
                return Err(inconsistent(
                    sensors_file,
                    format!(
                        "sensor {} belongs to unknown store {}",
                        sensor.sensor_id, sensor.store_id
                    ),
                ));
            };
            if sensor.sensor_id == 0 {
                return Err(inconsistent(
                    sensors_file,
                    format!("store {}: sensor ids start at 1", sensor.store_id),
                ));
            }
            if !(sensor.coef.is_finite() && sensor.coef > 0.0) {
                return Err(inconsistent(
                    sensors_file,
                    format!(
                        "sensor {} of store {} has a coefficient that is not positive",
                        sensor.sensor_id, sensor.store_id
                    ),
                ));
            }
            if !seen.insert((sensor.store_id, sensor.sensor_id)) {
                return Err(inconsistent(
                    sensors_file,
                    format!(
                        "sensor {} of store {} appears twice",
                        sensor.sensor_id, sensor.store_id
                    ),
                ));
            }
            by_store[i].push(sensor);
        }
        for list in &mut by_store {
            list.sort_by_key(|s| s.sensor_id);
        }
        Ok(Self {
            stores,
            sensors: by_store,
            index_by_id,
            index_by_city,
        })
    }

    pub fn stores(&self) -> &[Store] {
        &self.stores
    }

    pub fn store(&self, store_id: u32) -> Option<&Store> {
        self.index_by_id.get(&store_id).map(|&i| &self.stores[i])
    }

    /// Case-insensitive lookup by city (`PARIS`, `paris` and ` Paris ` are Paris).
    pub fn store_by_city(&self, city: &str) -> Option<&Store> {
        self.index_by_city
            .get(&normalize_city(city))
            .map(|&i| &self.stores[i])
    }

    /// The sensors of a store, sorted by id; empty for an unknown store.
    pub fn sensors_of(&self, store_id: u32) -> &[Sensor] {
        self.index_by_id
            .get(&store_id)
            .map(|&i| self.sensors[i].as_slice())
            .unwrap_or(&[])
    }

    pub fn sensor(&self, store_id: u32, sensor_id: u32) -> Option<&Sensor> {
        self.sensors_of(store_id)
            .binary_search_by_key(&sensor_id, |s| s.sensor_id)
            .ok()
            .map(|i| &self.sensors_of(store_id)[i])
    }

    pub fn sensor_count(&self) -> usize {
        self.sensors.iter().map(Vec::len).sum()
    }

    /// Every (store, sensor) pair, stores in id order.
    pub fn all_sensors(&self) -> impl Iterator<Item = (&Store, &Sensor)> {
        self.stores
            .iter()
            .zip(self.sensors.iter())
            .flat_map(|(store, sensors)| sensors.iter().map(move |sensor| (store, sensor)))
    }
}

fn normalize_city(city: &str) -> String {
    city.trim().to_lowercase()
}

fn parse_rows<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &str,
) -> Result<Vec<T>, ReferenceError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.deserialize::<T>() {
        match record {
            Ok(row) => rows.push(row),
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(ReferenceError::Invalid {
                    file: file.to_string(),
                    line,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_chain_is_the_original() {
        let r = Reference::embedded();
        assert_eq!(r.stores().len(), 10);
        assert_eq!(r.sensor_count(), 83);
        let per_store: Vec<usize> = r
            .stores()
            .iter()
            .map(|s| r.sensors_of(s.store_id).len())
            .collect();
        assert_eq!(per_store, vec![12, 10, 10, 9, 8, 7, 8, 7, 7, 5]);
        let paris = r.store_by_city("  pARis ").expect("Paris");
        assert_eq!((paris.store_id, paris.coef), (1, 1.5));
        assert_eq!(
            r.store_by_city("clermont-ferrand").map(|s| s.store_id),
            Some(10)
        );
        assert!(r.store_by_city("Rennes").is_none());
        assert_eq!(r.sensor(1, 9).map(|s| s.coef), Some(1.18));
        assert!(r.sensor(1, 13).is_none());
    }

    #[test]
    fn bad_files_are_refused_with_the_line() {
        let err = Reference::from_csv_str(
            "store_id,city_store,coef\n1,Paris,abc\n",
            "sensor_id,store_id,coef\n",
        )
        .expect_err("bad coef");
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = Reference::from_csv_str(
            "store_id,city_store,coef\n1,Paris,1.0\n",
            "sensor_id,store_id,coef\n1,2,1.0\n",
        )
        .expect_err("unknown store");
        assert!(err.to_string().contains("unknown store 2"), "{err}");
        let err = Reference::from_csv_str(
            "store_id,city_store,coef\n1,Paris,1.0\n2,paris,1.0\n",
            "sensor_id,store_id,coef\n",
        )
        .expect_err("duplicate city");
        assert!(err.to_string().contains("twice"), "{err}");
    }

    #[test]
    fn synthetic_chain_is_deterministic_and_sized() {
        let a = Reference::synthetic(1000, 7).expect("chain");
        let b = Reference::synthetic(1000, 7).expect("chain");
        assert_eq!(a.stores().len(), 1000);
        assert!(a.sensor_count() >= 5000 && a.sensor_count() <= 12000);
        assert_eq!(a.stores(), b.stores());
        assert_eq!(a.sensors_of(500), b.sensors_of(500));
        assert!(Reference::synthetic(0, 1).is_err());
    }
}
