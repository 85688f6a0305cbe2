-- Issue 14 (the console covers every workflow): what the cluster page and the review desk read as data.

-- The cameras a node really pulls now (its running ingest sessions), written with every heartbeat: the cluster page
-- shows what each node holds, role "all" included (it holds no leases, so counting leases showed 0 there).
ALTER TABLE cluster_nodes ADD COLUMN pulling uuid[] NOT NULL DEFAULT '{}';

-- Reject reasons per event type, editable by admins (Administration → 驳回原因). `key` is what events.reject_reason
-- stores; a few keys mean something to the server (permanent_object, legal_parking_bay and licensed_vendor teach the
-- rule a suppression region, "other" needs a note), any other key is a plain label.
CREATE TABLE reject_reasons (
  event_type  text NOT NULL REFERENCES event_types(key) ON UPDATE CASCADE ON DELETE CASCADE,
  key         text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{1,63}$'),
  name_zh     text NOT NULL CHECK (char_length(name_zh) BETWEEN 1 AND 40),
  name_en     text NOT NULL CHECK (char_length(name_en) BETWEEN 1 AND 80),
  sort        integer NOT NULL DEFAULT 0,
  enabled     boolean NOT NULL DEFAULT true,
  updated_by  uuid REFERENCES users(id) ON DELETE SET NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_type, key)
);

-- Defaults: misdetection and duplicate for every type, then what a reviewer meets for that kind of event, "other" last.
INSERT INTO reject_reasons (event_type, key, name_zh, name_en, sort)
SELECT t.key, r.key, r.name_zh, r.name_en, r.sort
  FROM event_types t
  CROSS JOIN (VALUES ('misdetection', '误检', 'Misdetection', 10), ('duplicate', '重复', 'Duplicate', 20)) AS r(key, name_zh, name_en, sort);

INSERT INTO reject_reasons (event_type, key, name_zh, name_en, sort)
SELECT t.key, r.key, r.name_zh, r.name_en, r.sort
  FROM (VALUES
    -- parking
    ('illegal_motor_parking', 'legal_parking_bay', '合法停车位', 'Legal parking bay', 30),
    ('illegal_motor_parking', 'brief_stop', '临时停靠上下客', 'Brief stop to pick up or drop off', 40),
    ('illegal_motor_parking', 'service_vehicle', '执法/救援/作业车辆', 'Enforcement, rescue or works vehicle', 50),
    ('fire_lane_blocked', 'brief_stop', '临时停靠上下客', 'Brief stop to pick up or drop off', 40),
    ('fire_lane_blocked', 'service_vehicle', '执法/救援/作业车辆', 'Enforcement, rescue or works vehicle', 50),
    ('illegal_bike_parking', 'legal_parking_bay', '规划停放区', 'Designated parking area', 30),
    ('shared_bike_disorder', 'legal_parking_bay', '规划停放区', 'Designated parking area', 30),
    ('shared_bike_disorder', 'orderly', '停放整齐', 'Parked in good order', 40),
    -- trading
    ('unlicensed_hawker', 'licensed_vendor', '合规摊点/早餐车', 'Licensed vendor', 30),
    ('road_occupying_stall', 'licensed_vendor', '合规摊点/早餐车', 'Licensed vendor', 30),
    ('outside_shop_trading', 'licensed_vendor', '合规摊点/早餐车', 'Licensed vendor', 30),
    ('outside_shop_trading', 'inside_shop', '店内经营', 'Inside the shop', 40),
    ('road_occupying_stall', 'passer_by', '行人短暂停留', 'Passers-by stopping briefly', 40),
    ('unlicensed_hawker', 'passer_by', '行人短暂停留', 'Passers-by stopping briefly', 40),
    ('scrap_buying', 'licensed_vendor', '合规回收点', 'Licensed collection point', 30),
    ('open_air_bbq', 'licensed_vendor', '合规经营点', 'Licensed premises', 30),
    ('open_air_bbq', 'not_smoke', '非烟雾（水汽等）', 'Not smoke (steam, etc.)', 40),
    ('burning_refuse', 'not_smoke', '非烟雾（水汽等）', 'Not smoke (steam, etc.)', 40),
    -- sanitation
    ('bin_overflow', 'bin_not_overflowing', '垃圾桶未满溢', 'Bin not overflowing', 30),
    ('bin_overflow', 'collection_scheduled', '清运中/已约定清运', 'Being collected or collection booked', 40),
    ('exposed_garbage', 'collection_scheduled', '清运中/已约定清运', 'Being collected or collection booked', 40),
    ('accumulated_muck', 'collection_scheduled', '清运中/已约定清运', 'Being collected or collection booked', 40),
    ('piled_materials', 'permitted_works', '已审批施工/堆放', 'Permitted works or storage', 40),
    ('construction_on_road', 'permitted_works', '已审批施工', 'Permitted works', 40),
    ('street_laundry', 'private_property', '私人区域', 'On private property', 40),
    ('illegal_small_ads', 'permitted_ad', '合规公示/广告', 'Permitted notice or advert', 40),
    ('roadside_ad_board', 'permitted_ad', '合规公示/广告', 'Permitted notice or advert', 40)
  ) AS r(event_type, key, name_zh, name_en, sort)
  JOIN event_types t ON t.key = r.event_type;

-- a fixed thing in the scene (a bollard, a kiosk, a bin) is a false alarm for every type; "other" closes every list
INSERT INTO reject_reasons (event_type, key, name_zh, name_en, sort)
SELECT t.key, r.key, r.name_zh, r.name_en, r.sort
  FROM event_types t
  CROSS JOIN (VALUES ('permanent_object', '固定物体', 'Permanent object', 80), ('other', '其他', 'Other', 90)) AS r(key, name_zh, name_en, sort);
