DROP TABLE notice_objections;
DROP TABLE notice_photos;
DROP TABLE notice_items;
DROP TABLE notices;
