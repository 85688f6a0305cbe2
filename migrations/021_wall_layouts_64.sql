-- Walls up to 64 tiles (issue 19): 8x8, and the 1+12 (one large tile in the middle of a 4x4) and 2+8 (two large
-- tiles over two rows of four) layouts that command centres use. The layout check of wall presets grows with them.
ALTER TABLE wall_presets DROP CONSTRAINT IF EXISTS wall_presets_layout_check;
ALTER TABLE wall_presets ADD CONSTRAINT wall_presets_layout_check
  CHECK (layout IN ('1', '4', '9', '16', '25', '36', '64', '1+5', '1+7', '1+12', '2+8'));
