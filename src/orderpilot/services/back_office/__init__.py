"""The back office: paid orders booked in the ERP, and the ERP's receivables read back."""
