//! Rows into Arrow batches, batches into a Parquet shard.
//!
//! Columns are built by hand per field (no generic value tree): a day at full scale has
//! ~50k rows and ~600k parameters, and typed builders keep that fast. `RecordBatch::try_new`
//! checks every column against the schema derived from the DDL, so a mismatch is an error,
//! never a silently different file.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::builder::NullBufferBuilder;
use arrow::array::{
    ArrayRef, Float64Builder, Int64Array, Int64Builder, ListArray, RecordBatch, StringArray,
    StringBuilder, StructArray, new_empty_array, new_null_array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, FieldRef, Fields, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::audience::NOT_SET;
use crate::catalog::{AFFILIATION, HOSTNAME};
use crate::error::SampleError;
use crate::events::{Event, Item, ParamValue};
use crate::population::User;

/// The web data stream of the public sample.
const STREAM_ID: i64 = 2_100_450_278;
const PLATFORM: &str = "WEB";
const CURRENCY: &str = "USD";
/// Rows per Parquet row group: one or two per day at full scale.
const ROW_GROUP_ROWS: usize = 100_000;

/// Accumulates rows of one shard until they are taken as a batch.
pub(crate) struct RowBuilder {
    schema: SchemaRef,
    rows: usize,
    event_date: StringBuilder,
    event_timestamp: Int64Builder,
    event_name: StringBuilder,
    params: ParamsBuilder,
    event_value_in_usd: Float64Builder,
    event_bundle_sequence_id: Int64Builder,
    event_server_timestamp_offset: Int64Builder,
    user_pseudo_id: StringBuilder,
    user_first_touch_timestamp: Int64Builder,
    ltv_revenue: Float64Builder,
    device: DeviceBuilder,
    geo: [StringBuilder; 5],
    traffic_source: [StringBuilder; 3],
    hostname: StringBuilder,
    hostname_valid: NullBufferBuilder,
    ecommerce: EcommerceBuilder,
    items: ItemsBuilder,
}

impl RowBuilder {
    pub(crate) fn new(schema: SchemaRef) -> RowBuilder {
        RowBuilder {
            schema,
            rows: 0,
            event_date: StringBuilder::new(),
            event_timestamp: Int64Builder::new(),
            event_name: StringBuilder::new(),
            params: ParamsBuilder::default(),
            event_value_in_usd: Float64Builder::new(),
            event_bundle_sequence_id: Int64Builder::new(),
            event_server_timestamp_offset: Int64Builder::new(),
            user_pseudo_id: StringBuilder::new(),
            user_first_touch_timestamp: Int64Builder::new(),
            ltv_revenue: Float64Builder::new(),
            device: DeviceBuilder::default(),
            geo: Default::default(),
            traffic_source: Default::default(),
            hostname: StringBuilder::new(),
            hostname_valid: NullBufferBuilder::new(0),
            ecommerce: EcommerceBuilder::default(),
            items: ItemsBuilder::default(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.rows
    }

    pub(crate) fn push(&mut self, event_date: &str, user: &User, event: &Event<'_>) {
        self.rows += 1;
        self.event_date.append_value(event_date);
        self.event_timestamp.append_value(event.timestamp);
        self.event_name.append_value(event.name);
        self.params.push(event);
        self.event_value_in_usd.append_option(event.value_in_usd);
        self.event_bundle_sequence_id.append_value(event.bundle_id);
        self.event_server_timestamp_offset
            .append_option(event.server_offset);
        self.user_pseudo_id.append_value(&user.pseudo_id);
        self.user_first_touch_timestamp
            .append_value(user.first_touch_micros);
        self.ltv_revenue.append_value(event.ltv);
        self.device.push(user);
        let geo = &user.geo;
        for (builder, value) in self.geo.iter_mut().zip([
            geo.country.continent,
            geo.country.sub_continent,
            geo.country.name,
            geo.region,
            geo.city,
        ]) {
            builder.append_value(value);
        }
        let source = &user.traffic_source;
        for (builder, value) in
            self.traffic_source
                .iter_mut()
                .zip([source.medium, source.name, source.source])
        {
            builder.append_value(value);
        }
        if event.hostname {
            self.hostname.append_value(HOSTNAME);
            self.hostname_valid.append_non_null();
        } else {
            self.hostname.append_null();
            self.hostname_valid.append_null();
        }
        self.ecommerce.push(event);
        self.items.push(&event.items);
    }

    /// Takes the rows pushed so far as one batch and starts over.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch, SampleError> {
        let n = std::mem::take(&mut self.rows);
        let schema = self.schema.clone();
        let ty = |name: &str| -> Result<DataType, SampleError> {
            Ok(schema.field_with_name(name)?.data_type().clone())
        };
        let [continent, sub_continent, country, region, city] = &mut self.geo;
        let [medium, name, source] = &mut self.traffic_source;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.event_date.finish()),
            Arc::new(self.event_timestamp.finish()),
            Arc::new(self.event_name.finish()),
            self.params.finish(&ty("event_params")?)?,
            new_null_array(&DataType::Int64, n), // event_previous_timestamp
            Arc::new(self.event_value_in_usd.finish()),
            Arc::new(self.event_bundle_sequence_id.finish()),
            Arc::new(self.event_server_timestamp_offset.finish()),
            new_null_array(&DataType::Utf8, n), // user_id
            Arc::new(self.user_pseudo_id.finish()),
            // Consent mode is off in the sample: storage flags NULL, transient token "No".
            struct_array(
                &ty("privacy_info")?,
                vec![
                    new_null_array(&DataType::Int64, n),
                    new_null_array(&DataType::Int64, n),
                    repeat("No", n),
                ],
                None,
            )?,
            empty_lists(&ty("user_properties")?, n)?,
            Arc::new(self.user_first_touch_timestamp.finish()),
            struct_array(
                &ty("user_ltv")?,
                vec![Arc::new(self.ltv_revenue.finish()), repeat(CURRENCY, n)],
                None,
            )?,
            self.device.finish(&ty("device")?, n)?,
            struct_array(
                &ty("geo")?,
                vec![
                    finish(continent),
                    finish(sub_continent),
                    finish(country),
                    finish(region),
                    finish(city),
                    repeat(NOT_SET, n), // metro
                ],
                None,
            )?,
            new_null_array(&ty("app_info")?, n),
            struct_array(
                &ty("traffic_source")?,
                vec![finish(medium), finish(name), finish(source)],
                None,
            )?,
            Arc::new(Int64Array::from(vec![STREAM_ID; n])),
            repeat(PLATFORM, n),
            struct_array(
                &ty("event_dimensions")?,
                vec![finish(&mut self.hostname)],
                self.hostname_valid.finish(),
            )?,
            self.ecommerce.finish(&ty("ecommerce")?)?,
            self.items.finish(&ty("items")?)?,
        ];
        Ok(RecordBatch::try_new(schema, columns)?)
    }
}

fn finish(builder: &mut StringBuilder) -> ArrayRef {
    Arc::new(builder.finish())
}

fn repeat(value: &str, n: usize) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(std::iter::repeat_n(value, n)))
}

fn struct_fields(ty: &DataType) -> Result<&Fields, SampleError> {
    match ty {
        DataType::Struct(fields) => Ok(fields),
        other => Err(SampleError::Shape(format!(
            "expected a STRUCT, the schema has {other}"
        ))),
    }
}

fn list_element(ty: &DataType) -> Result<&FieldRef, SampleError> {
    match ty {
        DataType::List(element) => Ok(element),
        other => Err(SampleError::Shape(format!(
            "expected an ARRAY, the schema has {other}"
        ))),
    }
}

/// The type of a struct's field.
fn field_type<'t>(ty: &'t DataType, name: &str) -> Result<&'t DataType, SampleError> {
    struct_fields(ty)?
        .find(name)
        .map(|(_, f)| f.data_type())
        .ok_or_else(|| SampleError::Shape(format!("the schema has no field {name}")))
}

fn struct_array(
    ty: &DataType,
    children: Vec<ArrayRef>,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef, SampleError> {
    Ok(Arc::new(StructArray::try_new(
        struct_fields(ty)?.clone(),
        children,
        nulls,
    )?))
}

fn list_array(ty: &DataType, offsets: Vec<i32>, values: ArrayRef) -> Result<ArrayRef, SampleError> {
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    Ok(Arc::new(ListArray::try_new(
        list_element(ty)?.clone(),
        offsets,
        values,
        None,
    )?))
}

fn empty_lists(ty: &DataType, n: usize) -> Result<ArrayRef, SampleError> {
    let values = new_empty_array(list_element(ty)?.data_type());
    list_array(ty, vec![0; n + 1], values)
}

/// `event_params`: ARRAY<STRUCT<key, value STRUCT<string_value, int_value, float_value, double_value>>>.
struct ParamsBuilder {
    offsets: Vec<i32>,
    key: StringBuilder,
    string_value: StringBuilder,
    int_value: Int64Builder,
    float_value: Float64Builder,
    double_value: Float64Builder,
}

impl Default for ParamsBuilder {
    fn default() -> Self {
        ParamsBuilder {
            offsets: vec![0],
            key: StringBuilder::new(),
            string_value: StringBuilder::new(),
            int_value: Int64Builder::new(),
            float_value: Float64Builder::new(),
            double_value: Float64Builder::new(),
        }
    }
}

impl ParamsBuilder {
    fn push(&mut self, event: &Event<'_>) {
        for param in &event.params {
            self.key.append_value(param.key);
            let (s, i) = match param.value {
                ParamValue::Str(s) => (Some(s), None),
                ParamValue::Int(i) => (None, Some(i)),
                ParamValue::Null => (None, None),
            };
            self.string_value.append_option(s);
            self.int_value.append_option(i);
            // The store sends no fractional parameters; float_value is unused by GA4 anyway.
            self.float_value.append_null();
            self.double_value.append_null();
        }
        let last = self.offsets[self.offsets.len() - 1];
        self.offsets.push(last + event.params.len() as i32);
    }

    fn finish(&mut self, ty: &DataType) -> Result<ArrayRef, SampleError> {
        let element = list_element(ty)?.data_type();
        let value = struct_array(
            field_type(element, "value")?,
            vec![
                Arc::new(self.string_value.finish()),
                Arc::new(self.int_value.finish()),
                Arc::new(self.float_value.finish()),
                Arc::new(self.double_value.finish()),
            ],
            None,
        )?;
        let elements = struct_array(element, vec![Arc::new(self.key.finish()), value], None)?;
        list_array(ty, std::mem::replace(&mut self.offsets, vec![0]), elements)
    }
}

#[derive(Default)]
struct DeviceBuilder {
    category: StringBuilder,
    brand: StringBuilder,
    model: StringBuilder,
    marketing_name: StringBuilder,
    os: StringBuilder,
    os_version: StringBuilder,
    language: StringBuilder,
    browser: StringBuilder,
    browser_version: StringBuilder,
}

impl DeviceBuilder {
    fn push(&mut self, user: &User) {
        let d = &user.device;
        self.category.append_value(d.category);
        self.brand.append_value(d.brand);
        self.model.append_value(d.model);
        self.marketing_name.append_value(d.marketing_name);
        self.os.append_value(d.os);
        self.os_version.append_value(d.os_version);
        self.language.append_option(d.language);
        self.browser.append_value(d.browser);
        self.browser_version.append_value(d.browser_version);
    }

    fn finish(&mut self, ty: &DataType, n: usize) -> Result<ArrayRef, SampleError> {
        let int_nulls = || new_null_array(&DataType::Int64, n);
        let web_info = struct_array(
            field_type(ty, "web_info")?,
            vec![finish(&mut self.browser), finish(&mut self.browser_version)],
            None,
        )?;
        struct_array(
            ty,
            vec![
                finish(&mut self.category),
                finish(&mut self.brand),
                finish(&mut self.model),
                finish(&mut self.marketing_name),
                int_nulls(), // mobile_os_hardware_model
                finish(&mut self.os),
                finish(&mut self.os_version),
                int_nulls(), // vendor_id
                int_nulls(), // advertising_id
                finish(&mut self.language),
                repeat("No", n), // is_limited_ad_tracking
                int_nulls(),     // time_zone_offset_seconds
                web_info,
            ],
            None,
        )
    }
}

#[derive(Default)]
struct EcommerceBuilder {
    total_item_quantity: Int64Builder,
    purchase_revenue: Float64Builder,
    shipping_value: Float64Builder,
    tax_value: Float64Builder,
    unique_items: Int64Builder,
    transaction_id: StringBuilder,
}

impl EcommerceBuilder {
    fn push(&mut self, event: &Event<'_>) {
        let e = &event.ecommerce;
        self.total_item_quantity
            .append_option(e.total_item_quantity);
        self.unique_items.append_option(e.unique_items);
        self.purchase_revenue
            .append_option(e.purchase.map(|p| p.revenue));
        self.shipping_value
            .append_option(e.purchase.map(|p| p.shipping));
        self.tax_value.append_option(e.purchase.map(|p| p.tax));
        self.transaction_id
            .append_option(e.purchase.map(|p| p.transaction_id));
    }

    /// The store sells in USD, so every `*_in_usd` equals its local twin.
    fn finish(&mut self, ty: &DataType) -> Result<ArrayRef, SampleError> {
        let revenue: ArrayRef = Arc::new(self.purchase_revenue.finish());
        let shipping: ArrayRef = Arc::new(self.shipping_value.finish());
        let tax: ArrayRef = Arc::new(self.tax_value.finish());
        let n = revenue.len();
        struct_array(
            ty,
            vec![
                Arc::new(self.total_item_quantity.finish()),
                revenue.clone(), // purchase_revenue_in_usd
                revenue,
                new_null_array(&DataType::Float64, n), // refund_value_in_usd
                new_null_array(&DataType::Float64, n), // refund_value
                shipping.clone(),                      // shipping_value_in_usd
                shipping,
                tax.clone(), // tax_value_in_usd
                tax,
                Arc::new(self.unique_items.finish()),
                finish(&mut self.transaction_id),
            ],
            None,
        )
    }
}

/// `items`: one element per item of an event, empty for events without items.
struct ItemsBuilder {
    offsets: Vec<i32>,
    item_id: StringBuilder,
    item_name: StringBuilder,
    item_brand: StringBuilder,
    item_variant: StringBuilder,
    item_category: StringBuilder,
    item_category2: StringBuilder,
    price: Float64Builder,
    quantity: Int64Builder,
    item_revenue: Float64Builder,
    item_list_id: StringBuilder,
    item_list_name: StringBuilder,
    item_list_index: StringBuilder,
    promotion_id: StringBuilder,
    promotion_name: StringBuilder,
    creative_name: StringBuilder,
    creative_slot: StringBuilder,
}

impl Default for ItemsBuilder {
    fn default() -> Self {
        ItemsBuilder {
            offsets: vec![0],
            item_id: StringBuilder::new(),
            item_name: StringBuilder::new(),
            item_brand: StringBuilder::new(),
            item_variant: StringBuilder::new(),
            item_category: StringBuilder::new(),
            item_category2: StringBuilder::new(),
            price: Float64Builder::new(),
            quantity: Int64Builder::new(),
            item_revenue: Float64Builder::new(),
            item_list_id: StringBuilder::new(),
            item_list_name: StringBuilder::new(),
            item_list_index: StringBuilder::new(),
            promotion_id: StringBuilder::new(),
            promotion_name: StringBuilder::new(),
            creative_name: StringBuilder::new(),
            creative_slot: StringBuilder::new(),
        }
    }
}

impl ItemsBuilder {
    fn push(&mut self, items: &[Item<'_>]) {
        for item in items {
            let p = item.product;
            self.item_id.append_value(&p.id);
            self.item_name.append_value(&p.name);
            self.item_brand.append_value(p.brand);
            self.item_variant.append_value(item.variant);
            self.item_category.append_value(p.category);
            self.item_category2.append_value(p.category2);
            self.price.append_value(p.price);
            self.quantity.append_value(item.quantity);
            self.item_revenue.append_option(item.revenue);
            match item.list {
                Some(list) => {
                    self.item_list_id.append_value(list.id);
                    self.item_list_name.append_value(list.name);
                    self.item_list_index.append_value(list.index.to_string());
                }
                None => {
                    self.item_list_id.append_value(NOT_SET);
                    self.item_list_name.append_value(NOT_SET);
                    self.item_list_index.append_value(NOT_SET);
                }
            }
            let promotion = item.promotion;
            self.promotion_id
                .append_value(promotion.map_or(NOT_SET, |p| p.id));
            self.promotion_name
                .append_value(promotion.map_or(NOT_SET, |p| p.name));
            self.creative_name
                .append_value(promotion.map_or(NOT_SET, |p| p.creative_name));
            self.creative_slot
                .append_value(promotion.map_or(NOT_SET, |p| p.creative_slot));
        }
        let last = self.offsets[self.offsets.len() - 1];
        self.offsets.push(last + items.len() as i32);
    }

    fn finish(&mut self, ty: &DataType) -> Result<ArrayRef, SampleError> {
        let element = list_element(ty)?.data_type();
        let price: ArrayRef = Arc::new(self.price.finish());
        let revenue: ArrayRef = Arc::new(self.item_revenue.finish());
        let m = price.len();
        let values = struct_array(
            element,
            vec![
                finish(&mut self.item_id),
                finish(&mut self.item_name),
                finish(&mut self.item_brand),
                finish(&mut self.item_variant),
                finish(&mut self.item_category),
                finish(&mut self.item_category2),
                repeat(NOT_SET, m), // item_category3
                repeat(NOT_SET, m), // item_category4
                repeat(NOT_SET, m), // item_category5
                price.clone(),      // price_in_usd
                price,
                Arc::new(self.quantity.finish()),
                revenue.clone(), // item_revenue_in_usd
                revenue,
                new_null_array(&DataType::Float64, m), // item_refund_in_usd
                new_null_array(&DataType::Float64, m), // item_refund
                repeat(NOT_SET, m),                    // coupon
                repeat(AFFILIATION, m),
                repeat(NOT_SET, m), // location_id
                finish(&mut self.item_list_id),
                finish(&mut self.item_list_name),
                finish(&mut self.item_list_index),
                finish(&mut self.promotion_id),
                finish(&mut self.promotion_name),
                finish(&mut self.creative_name),
                finish(&mut self.creative_slot),
            ],
            None,
        )?;
        list_array(ty, std::mem::replace(&mut self.offsets, vec![0]), values)
    }
}

/// A Parquet file written under a hidden temporary name and renamed into place when complete,
/// so a shard either exists whole or not at all.
pub(crate) struct ParquetSink {
    writer: ArrowWriter<BufWriter<File>>,
    temporary: PathBuf,
    path: PathBuf,
}

impl ParquetSink {
    pub(crate) fn create(path: &Path, schema: SchemaRef) -> Result<ParquetSink, SampleError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temporary = path.with_file_name(format!(".{name}.tmp"));
        let file = File::create(&temporary).map_err(|e| SampleError::io(&temporary, e))?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let writer = ArrowWriter::try_new(BufWriter::new(file), schema, Some(properties))?;
        Ok(ParquetSink {
            writer,
            temporary,
            path: path.to_owned(),
        })
    }

    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<(), SampleError> {
        Ok(self.writer.write(batch)?)
    }

    /// Finishes the file, moves it into place and returns its size on disk.
    pub(crate) fn commit(self) -> Result<u64, SampleError> {
        let buffered = self.writer.into_inner()?;
        let file = buffered
            .into_inner()
            .map_err(|e| SampleError::io(&self.temporary, e.into_error()))?;
        file.sync_all()
            .map_err(|e| SampleError::io(&self.temporary, e))?;
        drop(file);
        fs::rename(&self.temporary, &self.path).map_err(|e| SampleError::io(&self.path, e))?;
        let size = fs::metadata(&self.path)
            .map_err(|e| SampleError::io(&self.path, e))?
            .len();
        Ok(size)
    }

    /// Removes the unfinished file after a failure.
    pub(crate) fn abandon(self) {
        let temporary = self.temporary.clone();
        drop(self.writer);
        let _ = fs::remove_file(temporary);
    }
}
