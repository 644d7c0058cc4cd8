# The ai app keeps no tables of its own: AI answers are chat messages with
# their metadata (chat.ChatMessage), and the knowledge base is tours.FaqEntry.
