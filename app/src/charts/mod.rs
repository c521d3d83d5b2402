//! The dashboard's charts: their drawing with plotters ([`draw`], the same code on the
//! server and in the browser), how their x positions read ([`axis`]) and the chart as a
//! component with tooltips, legend, table and download ([`view`]). Their data is
//! `crate::wire::ChartData`.

pub mod axis;
pub mod draw;
pub mod view;
