//! Fargate task sizes and prices: which CPU/memory pairs Fargate accepts,
//! what an hour of each costs, and the cheapest size that holds a task's
//! containers.
//!
//! The table is AWS's ("Task CPU and memory", Amazon ECS developer guide,
//! Linux platform version 1.4.0).
//!
//! Prices (USD, Linux/x86, on-demand, from the AWS Fargate pricing page
//! <https://aws.amazon.com/fargate/pricing/> as published in 2024):
//!
//! | region | per vCPU-hour | per GB-hour |
//! |---|---|---|
//! | us-east-1, us-east-2, us-west-2, eu-west-1 | 0.04048 | 0.004445 |
//! | eu-central-1, eu-west-2 | 0.04656 | 0.00511 |
//! | ap-southeast-1 | 0.05056 | 0.00553 |
//!
//! Fargate Spot prices move with spare capacity; they typically sit about
//! 70 % below on-demand, so the estimate uses 30 % of the on-demand price.
//! Other regions fall back to the us-east-1 figures (close to the cheapest
//! region; the estimate is a guide, not a bill).

/// A task size Fargate accepts: CPU units (1024 = 1 vCPU) and MiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TaskSize {
    pub cpu: i64,
    pub memory: i64,
}

impl TaskSize {
    pub fn vcpu(self) -> f64 {
        self.cpu as f64 / 1024.0
    }

    pub fn memory_gb(self) -> f64 {
        self.memory as f64 / 1024.0
    }
}

/// For each CPU size, the memory sizes allowed with it (first, last, step).
const FARGATE_SIZES: [(i64, i64, i64, i64); 7] = [
    (256, 512, 2048, 0), // 512, 1024, 2048 (listed explicitly below)
    (512, 1024, 4096, 1024),
    (1024, 2048, 8192, 1024),
    (2048, 4096, 16384, 1024),
    (4096, 8192, 30720, 1024),
    (8192, 16384, 61440, 4096),
    (16384, 32768, 122880, 8192),
];

/// Every valid Fargate task size, smallest CPU first.
pub fn fargate_sizes() -> Vec<TaskSize> {
    let mut sizes = Vec::new();
    for (cpu, first, last, step) in FARGATE_SIZES {
        if step == 0 {
            for memory in [512, 1024, 2048] {
                sizes.push(TaskSize { cpu, memory });
            }
            continue;
        }
        let mut memory = first;
        while memory <= last {
            sizes.push(TaskSize { cpu, memory });
            memory += step;
        }
    }
    sizes
}

/// The largest CPU and memory any one Fargate task can have.
pub const MAX_TASK_CPU: i64 = 16384;
pub const MAX_TASK_MEMORY: i64 = 122880;

/// Why no Fargate size fits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoFargateSize {
    /// More CPU than the largest task has.
    Cpu { needed: i64 },
    /// More memory than any size (with enough CPU) has.
    Memory { needed: i64, cpu: i64 },
}

impl std::fmt::Display for NoFargateSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoFargateSize::Cpu { needed } => write!(
                f,
                "the task's containers need {needed} CPU units together; the largest Fargate task has {MAX_TASK_CPU}"
            ),
            NoFargateSize::Memory { needed, cpu } => write!(
                f,
                "the task's containers need {needed} MiB together; no Fargate size with at least {cpu} CPU units has that much memory (at most {MAX_TASK_MEMORY} MiB)"
            ),
        }
    }
}

/// Spot price as a share of on-demand (see the module documentation).
pub const SPOT_PRICE_FACTOR: f64 = 0.30;

/// Fargate prices of one kind (on-demand or spot).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FargatePrice {
    pub vcpu_hour: f64,
    pub gb_hour: f64,
}

impl FargatePrice {
    /// USD per hour for one task of this size.
    pub fn hourly(self, size: TaskSize) -> f64 {
        size.vcpu() * self.vcpu_hour + size.memory_gb() * self.gb_hour
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FargatePrices {
    pub on_demand: FargatePrice,
    pub spot: FargatePrice,
}

impl FargatePrices {
    pub fn for_region(region: &str) -> FargatePrices {
        let (vcpu_hour, gb_hour) = match region {
            "eu-central-1" | "eu-west-2" => (0.04656, 0.00511),
            "ap-southeast-1" => (0.05056, 0.00553),
            // us-east-1, us-east-2, us-west-2, eu-west-1, and the fallback
            // for every region not listed.
            _ => (0.04048, 0.004445),
        };
        let on_demand = FargatePrice { vcpu_hour, gb_hour };
        FargatePrices {
            on_demand,
            spot: FargatePrice {
                vcpu_hour: vcpu_hour * SPOT_PRICE_FACTOR,
                gb_hour: gb_hour * SPOT_PRICE_FACTOR,
            },
        }
    }
}

/// The cheapest Fargate size with at least `cpu` units and `memory` MiB.
/// Cheapest by the Fargate price (vCPU-hours and GB-hours, us-east-1
/// on-demand; the ratio between the two is the same in every region, so the
/// choice is too). Among equally priced sizes, the smaller CPU wins.
pub fn smallest_fargate_size(cpu: i64, memory: i64) -> Result<TaskSize, NoFargateSize> {
    if cpu > MAX_TASK_CPU {
        return Err(NoFargateSize::Cpu { needed: cpu });
    }
    let price = FargatePrices::for_region("us-east-1").on_demand;
    fargate_sizes()
        .into_iter()
        .filter(|s| s.cpu >= cpu && s.memory >= memory)
        .min_by(|a, b| {
            price
                .hourly(*a)
                .total_cmp(&price.hourly(*b))
                .then(a.cpu.cmp(&b.cpu))
        })
        .ok_or(NoFargateSize::Memory {
            needed: memory,
            cpu,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(cpu: i64, memory: i64) -> TaskSize {
        TaskSize { cpu, memory }
    }

    #[test]
    fn the_table_has_every_size_aws_lists() {
        let sizes = fargate_sizes();
        assert_eq!(sizes.iter().filter(|s| s.cpu == 256).count(), 3);
        assert_eq!(sizes.iter().filter(|s| s.cpu == 512).count(), 4);
        assert_eq!(sizes.iter().filter(|s| s.cpu == 1024).count(), 7);
        assert_eq!(sizes.iter().filter(|s| s.cpu == 2048).count(), 13);
        assert_eq!(sizes.iter().filter(|s| s.cpu == 4096).count(), 23);
        assert_eq!(sizes.iter().filter(|s| s.cpu == 8192).count(), 12);
        assert_eq!(sizes.iter().filter(|s| s.cpu == 16384).count(), 12);
        assert!(sizes.contains(&size(4096, 30720)));
        assert!(sizes.contains(&size(16384, 122880)));
        assert!(!sizes.contains(&size(256, 4096)));
        assert!(!sizes.contains(&size(8192, 18432)));
    }

    #[test]
    fn smallest_sizes() {
        assert_eq!(smallest_fargate_size(1, 1), Ok(size(256, 512)));
        assert_eq!(smallest_fargate_size(256, 512), Ok(size(256, 512)));
        assert_eq!(smallest_fargate_size(257, 512), Ok(size(512, 1024)));
        assert_eq!(smallest_fargate_size(256, 2049), Ok(size(512, 3072)));
        // Reference service: app 512/1024 + Envoy 256/256 + ADOT 128/128.
        assert_eq!(smallest_fargate_size(896, 1408), Ok(size(1024, 2048)));
        // Without ADOT.
        assert_eq!(smallest_fargate_size(768, 1280), Ok(size(1024, 2048)));
        assert_eq!(smallest_fargate_size(512, 1280), Ok(size(512, 2048)));
        assert_eq!(smallest_fargate_size(4096, 30721), Ok(size(8192, 32768)));
        assert_eq!(smallest_fargate_size(8193, 1), Ok(size(16384, 32768)));
    }

    #[test]
    fn memory_heavy_tasks_take_more_cpu_when_that_is_cheaper_or_required() {
        // 9 GiB needs at least 2 vCPU (1 vCPU stops at 8 GiB).
        assert_eq!(smallest_fargate_size(256, 9216), Ok(size(2048, 9216)));
    }

    #[test]
    fn what_no_size_holds() {
        assert_eq!(
            smallest_fargate_size(16385, 1024),
            Err(NoFargateSize::Cpu { needed: 16385 })
        );
        assert_eq!(
            smallest_fargate_size(1024, 122881),
            Err(NoFargateSize::Memory {
                needed: 122881,
                cpu: 1024
            })
        );
    }
}
